// Runs @pactflow/swagger-mock-validator on one spec and one pact; prints its result as one JSON line.
// Usage: node _smv_runner.mjs <the validator's swagger-mock-validator-factory.js> <spec.json> <pact.json>
// No analytics URL is given, so nothing leaves the machine.
import { pathToFileURL } from 'node:url';

const [factoryPath, specPath, mockPath] = process.argv.slice(2);
const summarise = (items) => (items || []).map((item) => ({
  code: item.code,
  type: item.type,
  message: item.message,
  interaction: item.mockDetails ? item.mockDetails.interactionDescription : undefined,
  state: item.mockDetails ? item.mockDetails.interactionState : undefined,
  location: item.mockDetails ? item.mockDetails.location : undefined,
  specLocation: item.specDetails ? item.specDetails.location : undefined,
  pathMethod: item.specDetails ? item.specDetails.pathMethod : undefined,
  pathName: item.specDetails ? item.specDetails.pathName : undefined,
}));
try {
  const module = await import(pathToFileURL(factoryPath).href);
  const validator = module.SwaggerMockValidatorFactory.create();
  const result = await validator.validate({ specPathOrUrl: specPath, mockPathOrUrl: mockPath });
  process.stdout.write(JSON.stringify({
    success: result.success,
    failureReason: result.failureReason,
    errors: summarise(result.errors),
    warnings: summarise(result.warnings),
  }) + '\n');
} catch (error) {
  process.stdout.write(JSON.stringify({ crashed: String(error && error.message ? error.message : error) }) + '\n');
  process.exitCode = 3;
}

from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error_envelope import ErrorEnvelope
from ...models.sora_2_characters_body import Sora2CharactersBody
from ...models.sora_2_characters_pro_body import Sora2CharactersProBody
from ...models.sora_2_characters_response_200 import Sora2CharactersResponse200
from ...types import Response


def _get_kwargs(
    *,
    body: Sora2CharactersBody | Sora2CharactersProBody,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/jobs/createTask",
    }

    if isinstance(body, Sora2CharactersBody):
        _kwargs["json"] = body.to_dict()
    else:
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | ErrorEnvelope | Sora2CharactersResponse200 | None:
    if response.status_code == 200:
        response_200 = Sora2CharactersResponse200.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ErrorEnvelope.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ErrorEnvelope.from_dict(response.json())

        return response_401

    if response.status_code == 402:
        response_402 = ErrorEnvelope.from_dict(response.json())

        return response_402

    if response.status_code == 422:
        response_422 = ErrorEnvelope.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = ErrorEnvelope.from_dict(response.json())

        return response_429

    if response.status_code == 433:
        response_433 = ErrorEnvelope.from_dict(response.json())

        return response_433

    if response.status_code == 455:
        response_455 = ErrorEnvelope.from_dict(response.json())

        return response_455

    if response.status_code == 500:
        response_500 = cast(Any, None)
        return response_500

    if response.status_code == 501:
        response_501 = ErrorEnvelope.from_dict(response.json())

        return response_501

    if response.status_code == 505:
        response_505 = ErrorEnvelope.from_dict(response.json())

        return response_505

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | ErrorEnvelope | Sora2CharactersResponse200]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: Sora2CharactersBody | Sora2CharactersProBody,
) -> Response[Any | ErrorEnvelope | Sora2CharactersResponse200]:
    """Generate character animations using sora-2-characters

    Args:
        body (Sora2CharactersBody | Sora2CharactersProBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorEnvelope | Sora2CharactersResponse200]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    body: Sora2CharactersBody | Sora2CharactersProBody,
) -> Any | ErrorEnvelope | Sora2CharactersResponse200 | None:
    """Generate character animations using sora-2-characters

    Args:
        body (Sora2CharactersBody | Sora2CharactersProBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorEnvelope | Sora2CharactersResponse200
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: Sora2CharactersBody | Sora2CharactersProBody,
) -> Response[Any | ErrorEnvelope | Sora2CharactersResponse200]:
    """Generate character animations using sora-2-characters

    Args:
        body (Sora2CharactersBody | Sora2CharactersProBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | ErrorEnvelope | Sora2CharactersResponse200]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: Sora2CharactersBody | Sora2CharactersProBody,
) -> Any | ErrorEnvelope | Sora2CharactersResponse200 | None:
    """Generate character animations using sora-2-characters

    Args:
        body (Sora2CharactersBody | Sora2CharactersProBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | ErrorEnvelope | Sora2CharactersResponse200
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed

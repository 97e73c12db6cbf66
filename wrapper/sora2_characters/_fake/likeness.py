"""Where the fake's live style knowingly differs from the captured live service, and why.

``contract_tests/test_fake_likeness.py`` puts the fake in each sample's situation and compares the
answers; every difference it finds must be listed here with its reason, and every difference
listed here must still be found. Most entries are doc examples that captures of the live service
contradict (the fake follows the capture), or fields of other models' records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

_CREDITS_CONSUMED = (
    "the September 2026 live records add creditsConsumed (live-facts.md), newer than these April "
    "captures; the fake sends it so a refund shows as 0 and a success as its price"
)
_CALLBACK_TYPE = (
    "live-facts.md: the live callback is sent by okhttp as 'application/json; charset=utf-8'; this "
    "sample's headers come from a doc or README page, not from the wire"
)
_FULL_RECORD = "the fake's callback carries the whole record, as the doc callback with remainedCredits does"
_DOC_NULLS = (
    "a doc example: the captures (har_recordinfo_*) show null failCode/failMsg, null costTime and "
    "completeTime until the end, and no updateTime or progress; the fake follows the captures"
)
_OPTIONAL = "live records omit it (har_recordinfo_*); FakeApikley(record_fields=...) adds it on request"

#: Samples not compared, with the reason.
NOT_COMPARED: Final[Mapping[str, str]] = {
    "cb_other_family_task_id_shape": "a callback of another API family (no state): nothing the fake sends",
    "doc_recordinfo_queuing": "a hand-written fixture holding only three record keys, not an answer",
}

#: sample id -> {difference, as the likeness test words it: why the fake keeps it}.
KNOWN_DIFFERENCES: Final[Mapping[str, Mapping[str, str]]] = {
    "cb_doc_failure": {
        "content-type: fake 'application/json; charset=utf-8' vs live 'application/json'": _CALLBACK_TYPE,
        "data.completeTime: fake integer vs live absent": _FULL_RECORD,
        "data.costTime: fake integer vs live absent": _FULL_RECORD,
        "data.createTime: fake integer vs live absent": _FULL_RECORD,
        "data.creditsConsumed: fake integer vs live absent": _CREDITS_CONSUMED,
        "data.model: fake string vs live absent": _FULL_RECORD,
        "data.param: fake string vs live absent": _FULL_RECORD,
        "data.resultJson: fake empty string vs live null": (
            'a short doc example; the records captured before success show resultJson ""'
        ),
    },
    "cb_doc_failure_remained_credits": {
        "content-type: fake 'application/json; charset=utf-8' vs live 'application/json'": _CALLBACK_TYPE,
        "data.creditsConsumed: fake integer vs live absent": _CREDITS_CONSUMED,
        "data.remainedCredits: fake absent vs live integer": (
            "only doc examples show remainedCredits; no capture does, so the fake leaves it out"
        ),
        "data.resultJson: fake empty string vs live absent": _FULL_RECORD,
        "data.updateTime: fake absent vs live integer": _OPTIONAL,
    },
    "cb_success_seedream_readme": {
        "content-type: fake 'application/json; charset=utf-8' vs live 'application/json'": _CALLBACK_TYPE,
        "data.createTime: fake integer vs live absent": _FULL_RECORD,
        "data.creditsConsumed: fake number vs live absent": _CREDITS_CONSUMED,
        "data.failCode: fake absent vs live null": (
            "live-facts.md: the live success callback omits failCode/failMsg (issue 11); this README "
            "sample was edited by its author"
        ),
        "data.failMsg: fake absent vs live null": "as for failCode",
        "data.param: fake string vs live absent": _FULL_RECORD,
    },
    "doc_characters_create": {
        "data.recordId: fake string vs live absent": (
            "the doc example predates recordId; the capture har_createtask_success_recordid has it"
        ),
    },
    "doc_characters_success": {
        "data.creditsConsumed: fake number vs live absent": _CREDITS_CONSUMED,
        "data.failCode: fake null vs live empty string": _DOC_NULLS,
        "data.failMsg: fake null vs live empty string": _DOC_NULLS,
        "data.updateTime: fake absent vs live integer": _OPTIONAL,
    },
    "doc_recordinfo_fail_message_key": {
        "data.costTime: fake integer vs live absent": "the captured finished records carry costTime",
        "data.creditsConsumed: fake integer vs live absent": _CREDITS_CONSUMED,
        "data.updateTime: fake absent vs live integer": _OPTIONAL,
        "message: fake absent vs live string": "a doc typo: every captured envelope says msg",
        "msg: fake string vs live absent": "a doc typo: every captured envelope says msg",
    },
    "doc_recordinfo_generating_progress": {
        "data.completeTime: fake null vs live integer": _DOC_NULLS,
        "data.costTime: fake null vs live integer": _DOC_NULLS,
        "data.creditsConsumed: fake integer vs live absent": _CREDITS_CONSUMED,
        "data.failCode: fake null vs live empty string": _DOC_NULLS,
        "data.failMsg: fake null vs live empty string": _DOC_NULLS,
        "data.progress: fake absent vs live integer": _OPTIONAL,
        "data.updateTime: fake absent vs live integer": _OPTIONAL,
    },
    "har_recordinfo_generating": {"data.creditsConsumed: fake integer vs live absent": _CREDITS_CONSUMED},
    "har_recordinfo_success_long": {"data.creditsConsumed: fake number vs live absent": _CREDITS_CONSUMED},
    "har_recordinfo_success_video": {"data.creditsConsumed: fake number vs live absent": _CREDITS_CONSUMED},
    "har_recordinfo_waiting": {"data.creditsConsumed: fake integer vs live absent": _CREDITS_CONSUMED},
    "har_validation_422_data_null": {
        "msg: fake 'callBackUrl: must be an absolute URI' vs live 'Please enter callBackUrl.'": (
            "the capture is another endpoint's (/api/v1/generate) message; the fake names the field and "
            "the limit, as the SDK's errors need"
        ),
    },
}

"""The drift comparison: shape changes are reported, value changes and volatile fields are not."""

from __future__ import annotations

from pytest_sessionmem.cassette.drift import response_drift, shape_drift
from pytest_sessionmem.cassette.schema import Body, RecordedResponse

RECORDED = {
    "messages": [
        {"uuid": "a", "content": "hello", "role_type": "user", "created_at": None, "metadata": {}},
        {
            "uuid": "b",
            "content": "hi",
            "role_type": "assistant",
            "created_at": None,
            "metadata": {},
        },
    ],
    "row_count": 2,
    "total_count": 2,
}


def live(**changes: object) -> dict[str, object]:
    messages = [dict(m) for m in RECORDED["messages"]]  # type: ignore[attr-defined]
    data: dict[str, object] = {**RECORDED, "messages": messages}
    data.update(changes)
    return data


def test_other_values_ids_and_timestamps_are_no_drift() -> None:
    other = live()
    other["messages"][0].update(  # type: ignore[index]
        uuid="zz", content="something else", created_at="2026-01-01T00:00:00Z"
    )
    assert shape_drift(RECORDED, other) == []


def test_added_removed_retyped_fields_and_list_lengths_are_drift() -> None:
    other = live()
    other["messages"][0]["sentiment"] = 0.3  # type: ignore[index]
    del other["messages"][1]["metadata"]  # type: ignore[attr-defined]
    other["row_count"] = "2"
    other["messages"].append(dict(other["messages"][0]))  # type: ignore[attr-defined]
    assert shape_drift(RECORDED, other) == [
        "messages[0].sentiment added",
        "messages[1].metadata removed",
        "row_count changed type from number to string",
        "messages length changed from 2 to 3",
    ]
    assert shape_drift(RECORDED, live(total_count=None)) == [
        "total_count changed type from number to null"
    ]
    retyped_content = live()
    retyped_content["messages"][0]["content"] = ["hello"]  # type: ignore[index]
    assert shape_drift(RECORDED, retyped_content) == [
        "messages[0].content changed type from string to array"
    ]


def test_status_and_content_type_are_compared() -> None:
    recorded = RecordedResponse(
        200, headers=(("content-type", "application/json"),), body=Body("json", RECORDED)
    )
    moved = RecordedResponse(
        404, headers=(("content-type", "text/html; charset=utf-8"),), body=Body("text", "gone")
    )
    assert response_drift(recorded, moved) == [
        "status changed from 200 to 404",
        "content type changed from application/json to text/html",
        "body changed from json to text",
    ]
    assert response_drift(recorded, recorded) == []

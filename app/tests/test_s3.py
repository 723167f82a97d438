"""Collections in s3:// Zarr stores, read through obstore from moto's S3 server (a real process)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from fastapi.testclient import TestClient
from gridserve.main import create_app
from gridserve.settings import Settings

from .conftest import free_port

BUCKET = "climate"
PREFIX = "regional"
SECRET = "never-shown-secret-4711"


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    port = free_port()
    moto = shutil.which("moto_server", path=str(Path(sys.executable).parent))
    assert moto, "moto_server comes with the test extra (moto[server])"
    process = subprocess.Popen(
        [moto, "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(endpoint, timeout=1.0)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield endpoint
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.fixture
def aws_env(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The standard AWS variables, as an ECS task would have them (endpoint aside)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_REGION": "ap-southeast-2",
        "AWS_DEFAULT_REGION": "ap-southeast-2",
        "AWS_ENDPOINT_URL": s3_endpoint,
        "AWS_ALLOW_HTTP": "true",
    }.items():
        monkeypatch.setenv(name, value)


@pytest.fixture
def s3_bucket(aws_env: None, s3_endpoint: str, regional_dir: Path) -> Iterator[str]:
    s3 = boto3.client("s3", endpoint_url=s3_endpoint)
    s3.create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "ap-southeast-2"}
    )
    for path in regional_dir.rglob("*"):
        if path.is_file():
            key = f"{PREFIX}/{path.relative_to(regional_dir).as_posix()}"
            s3.upload_file(str(path), BUCKET, key)
    yield f"s3://{BUCKET}/{PREFIX}"
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for item in page.get("Contents", []):
            s3.delete_object(Bucket=BUCKET, Key=item["Key"])
    s3.delete_bucket(Bucket=BUCKET)


def test_s3_collection_serves_the_same_as_local(s3_bucket: str, regional_dir: Path) -> None:
    remote = Settings(collections={"regional": s3_bucket})
    local = Settings(collections={"regional": str(regional_dir)})
    params = {"lon": 10, "lat": 45, "start": "2024-01-01", "end": "2024-01-10"}
    with TestClient(create_app(remote)) as s3_client, TestClient(create_app(local)) as disk:
        assert s3_client.get("/health").json()["datasets"] == {"regional": "ok"}
        for path in ("/tiles/regional/3/4/2.png", "/tiles/regional/5/17/10.png"):
            from_s3 = s3_client.get(path, params={"time": "2024-01-05"})
            assert from_s3.status_code == 200
            assert from_s3.content == disk.get(path, params={"time": "2024-01-05"}).content
        series = s3_client.get("/api/timeseries", params=params).json()
        assert series == disk.get("/api/timeseries", params=params).json()


def test_s3_health_is_503_when_the_bucket_is_emptied(s3_bucket: str, s3_endpoint: str) -> None:
    with TestClient(create_app(Settings(collections={"regional": s3_bucket}))) as client:
        assert client.get("/health").status_code == 200
        s3 = boto3.client("s3", endpoint_url=s3_endpoint)
        s3.delete_object(Bucket=BUCKET, Key=f"{PREFIX}/map.zarr/zarr.json")
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["datasets"]["regional"] != "ok"


def test_unreadable_bucket_is_503_and_keeps_the_secret_out(aws_env: None) -> None:
    settings = Settings(collections={"nowhere": "s3://no-such-bucket/x"})
    with TestClient(create_app(settings)) as client:
        answers = [client.get(path) for path in ("/api/collections/nowhere", "/health")]
    assert [answer.status_code for answer in answers] == [503, 503]
    assert "collection 'nowhere' cannot be read" in answers[0].json()["message"]
    assert all(SECRET not in answer.text for answer in answers)

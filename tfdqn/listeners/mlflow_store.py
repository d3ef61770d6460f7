"""Talking to an MLflow tracking store so that it can never end a training run: opening its experiment, the
limits of one call, and which of its refusals are for good (a request sent again fails again) rather than a
failure that may pass. MLflow is imported inside the functions, never at module level."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable
from typing import Any

from tfdqn.errors import TfdqnError
from tfdqn.extras import require_extra

BATCH = {"metrics": 1000, "params": 100}  # MLflow's limits per log_batch call
REJECTED = frozenset(
    {"INVALID_PARAMETER_VALUE", "BAD_REQUEST", "MALFORMED_REQUEST", "RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"}
)
"""The MLflow error codes (`mlflow.protos.databricks_pb2.ErrorCode`) saying a request itself is bad: sent again, it
fails again. Every other failure (no answer, 5xx, RESOURCE_EXHAUSTED, TEMPORARILY_UNAVAILABLE...) may pass."""


class TrackingError(TfdqnError):
    """The MLflow tracking store cannot be used (an unknown URI scheme, a store that does not answer, a deleted
    experiment); the message names the store."""


def open_experiment(tracking_uri: str | None, name: str | None) -> tuple[Any, str]:
    """(an `MlflowClient` for `tracking_uri`, the id of experiment `name`, created if new); None: MLflow's
    default store (MLFLOW_TRACKING_URI, else its own default) and its "Default" experiment."""
    require_extra("tracking", "MLflow tracking")
    from mlflow.exceptions import MlflowException
    from mlflow.tracking import MlflowClient

    where = tracking_uri or "MLflow's default store"
    try:
        client = MlflowClient(tracking_uri or None)
        found = client.get_experiment_by_name(name or "Default")
        if found is None:
            try:
                return client, client.create_experiment(name or "Default")
            except MlflowException:  # another run created it meanwhile
                found = client.get_experiment_by_name(name or "Default")
                if found is None:
                    raise
    except MlflowException as exc:
        raise TrackingError(f"MLflow tracking store {where}: {exc.message.splitlines()[0]}") from None
    except Exception as exc:  # a store that does not answer, a path that cannot be written...
        raise TrackingError(f"MLflow tracking store {where}: {type(exc).__name__}: {exc}") from None
    if found.lifecycle_stage != "active":
        raise TrackingError(f"MLflow experiment {name!r} in {where} is deleted: restore it or choose another name")
    return client, found.experiment_id


def rejected(exc: BaseException) -> bool:
    """Whether `exc` is the store rejecting a request for good (an `MlflowException` with an error code of
    `REJECTED`), rather than a failure that sending it again may get past."""
    from mlflow.exceptions import MlflowException

    return isinstance(exc, MlflowException) and exc.error_code in REJECTED


def param_value(value: Any) -> str:
    """A config value as an MLflow parameter: strings as they are, everything else as in config.json (JSON)."""
    return value if isinstance(value, str) else json.dumps(value)


def send_params(
    client: Any,
    run_id: str | None,
    params: list[Any],
    failed: Callable[[Any, Exception], None],
    answered: Callable[[], None],
) -> list[Any]:
    """Log `params` (mlflow.entities.Param) in one batch and return what is left for the next flush. A batch
    rejected for good is sent param by param; the params rejected are dropped with one warning, so they hold
    nothing back. `answered()` is called once the store answers the batch (taking it or rejecting it for good); a
    failure that may pass goes to `failed(method, exc)` and is kept."""
    try:
        client.log_batch(run_id, params=params)
    except Exception as exc:  # the store's failure must not end a training run
        if not rejected(exc):
            failed(client.log_batch, exc)
            return params
        refusal = exc
    else:
        answered()
        return []
    answered()
    refusals, left = {}, []
    if len(params) == 1:
        refusals[params[0].key] = refusal
    else:  # one bad param must not lose the others
        for index, param in enumerate(params):
            try:
                client.log_batch(run_id, params=[param])
            except Exception as exc:
                if not rejected(exc):
                    failed(client.log_batch, exc)
                    left = params[index:]
                    break
                refusals[param.key] = exc
    if refusals:
        why = "; ".join(dict.fromkeys(map(rejection_reason, refusals.values())))  # distinct, in order
        warnings.warn(
            f"MLflow: the store rejected for good parameter(s) {', '.join(refusals)} of run {run_id} ({why}); "
            "they are not logged, and logging goes on",
            stacklevel=3,
        )
    return left


def rejection_reason(exc: Any) -> str:
    """The first line of a rejection's message (an `MlflowException`), led by its error code."""
    message = exc.message.splitlines()[0] if exc.message else ""
    return message if message.startswith(exc.error_code) else f"{exc.error_code}: {message}"

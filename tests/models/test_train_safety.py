"""models.train on bad input, concurrent runs, interrupted saves and unreadable resume states."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

import models
from models import tasks
from models.checkpoint import writing
from models.checkpoint.atomic import clean_stale_temps
from models.checkpoint.lock import folder_lock
from models.errors import CheckpointError, FolderInUseError, InvalidOptionError

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def digits() -> tasks.Task:
    return tasks.get("digits")


def _rnn(task: tasks.Task, hidden_size: int = 4) -> models.RecurrentModel:
    return models.build(
        "rnn",
        input_size=task.input_size,
        hidden_size=hidden_size,
        output_size=task.output_size,
        readout=task.readout,
    )


_QUICK = models.TrainConfig(steps=2, batch_size=4, checkpoint_every=1)


def _python(code: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )


# -- everything is validated before anything is created ----------------------------------------


@pytest.mark.parametrize(
    ("task_params", "settings", "match"),
    [
        ({}, {"batch_size": 10**9}, r"a batch of 1000000000 sequences .* above the limit"),
        ({"T": 10**9}, {}, r"a batch of 32 sequences of task 'copy' \(1000000020 steps"),
        ({"T": 100_000, "test_size": 100_000}, {"batch_size": 1}, r"the test set of 100000"),
    ],
)
def test_bad_input_leaves_nothing_behind(
    tmp_path: Path, task_params: dict, settings: dict, match: str
) -> None:
    name = "copy" if task_params else "digits"
    task = tasks.get(name, **task_params)
    model = _rnn(task)
    out = tmp_path / "run"
    config = models.TrainConfig(steps=1, **settings)
    with pytest.raises(InvalidOptionError, match=match):
        config.check(model, task)
    with pytest.raises(InvalidOptionError, match=match):
        models.train(model, task, config, out=out)
    assert not out.exists()


def test_invalid_settings_and_models_are_refused_before_the_folder_exists(
    tmp_path: Path, digits: tasks.Task
) -> None:
    out = tmp_path / "run"
    with pytest.raises(InvalidOptionError, match=r"seed must be .*2\*\*64 - 1"):
        models.TrainConfig(seed=2**70)
    with pytest.raises(InvalidOptionError, match="model too large"):
        models.build("rnn", input_size=1, hidden_size=200_000, output_size=10)
    wrong = models.build("rnn", input_size=2, hidden_size=4, output_size=10)
    with pytest.raises(InvalidOptionError, match="input_size=1"):
        models.train(wrong, digits, _QUICK, out=out)
    file_out = tmp_path / "file"
    file_out.write_text("x")
    with pytest.raises(CheckpointError, match="it is a file, not a directory"):
        models.train(_rnn(digits), digits, _QUICK, out=file_out)
    assert not out.exists() and file_out.read_text() == "x"


def test_a_run_at_the_limits_is_accepted(digits: tasks.Task) -> None:
    limit = models.train_config.MAX_TENSOR_ELEMENTS
    model = _rnn(digits, hidden_size=16)
    fits = limit // (digits.seq_len * 16)
    models.TrainConfig(batch_size=fits).check(model, digits)
    with pytest.raises(InvalidOptionError, match="above the limit"):
        models.TrainConfig(batch_size=fits + 1).check(model, digits)


# -- one writer per folder -----------------------------------------------------------------------


def test_a_second_run_into_the_same_folder_is_refused(tmp_path: Path, digits: tasks.Task) -> None:
    errors: list[FolderInUseError] = []

    def start_another(step: models.TrainStep) -> None:
        if step.step == 1:
            with pytest.raises(FolderInUseError) as info:
                models.train(_rnn(digits), digits, _QUICK, out=tmp_path)
            errors.append(info.value)

    result = models.train(_rnn(digits), digits, _QUICK, out=tmp_path, callback=start_another)
    assert result.steps == 2
    (error,) = errors
    assert str(tmp_path) in str(error) and f"pid {os.getpid()}" in str(error)
    assert models.load(tmp_path).step == 2
    assert not (tmp_path / models.LOCK_FILE).exists()


def test_another_process_holding_the_lock_is_named_and_a_dead_one_is_taken_over(
    tmp_path: Path, digits: tasks.Task
) -> None:
    holder = _python(
        f"""
        import sys, time
        from models.checkpoint.lock import folder_lock
        with folder_lock({str(tmp_path)!r}):
            print("locked", flush=True)
            time.sleep(120)
        """
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(FolderInUseError) as info:
            models.train(_rnn(digits), digits, _QUICK, out=tmp_path)
        message = str(info.value)
        assert str(tmp_path) in message and f"pid {holder.pid}" in message
        assert "\n" not in message
        assert sorted(p.name for p in tmp_path.iterdir()) == [models.LOCK_FILE]
        writing_wait = writing.SAVE_WAIT
        writing.SAVE_WAIT = 0.2
        try:
            with pytest.raises(FolderInUseError, match=f"pid {holder.pid}"):
                models.save(_rnn(digits), tmp_path)
        finally:
            writing.SAVE_WAIT = writing_wait
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    assert (tmp_path / models.LOCK_FILE).exists()  # left behind by the killed process
    result = models.train(_rnn(digits), digits, _QUICK, out=tmp_path)
    assert result.steps == 2 and models.load(tmp_path).step == 2
    assert not (tmp_path / models.LOCK_FILE).exists()


def test_save_inside_a_run_and_nested_locks_of_one_thread(tmp_path: Path) -> None:
    with folder_lock(tmp_path):
        with folder_lock(tmp_path, reentrant=True):
            assert (tmp_path / models.LOCK_FILE).exists()
        assert (tmp_path / models.LOCK_FILE).exists()
        with pytest.raises(FolderInUseError, match="another run in this process"):
            with folder_lock(tmp_path):
                pass
    assert not (tmp_path / models.LOCK_FILE).exists()


# -- temporary files of an interrupted write ----------------------------------------------------


_STALE = [
    ".model.safetensors.k2j4_x9a.tmp",
    ".config.json.a1b2c3d4.tmp",
    ".metrics.jsonl.zz_9x8y7.tmp",
    ".train_state.pt.q1w2e3r4.tmp",
    ".model.safetensors.0123456789abcdef0123456789abcdef.bak",
]
_NOT_OURS = [".model.safetensors.tmp", ".config.json.toolong99.tmp", "notes.tmp", ".x.abcdefgh.tmp"]


def test_stale_temporaries_are_removed_by_the_next_write(
    tmp_path: Path, digits: tasks.Task
) -> None:
    for name in _STALE + _NOT_OURS:
        (tmp_path / name).write_bytes(b"partial")
    (tmp_path / ".config.json.d1r2e3c4.tmp").mkdir()  # not a regular file: kept
    models.save(_rnn(digits), tmp_path)
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(
        [*_NOT_OURS, ".config.json.d1r2e3c4.tmp", "config.json", "model.safetensors"]
    )
    for name in _STALE:
        (tmp_path / name).write_bytes(b"partial")
    models.train(_rnn(digits), digits, _QUICK, out=tmp_path)
    assert not set(_STALE) & {p.name for p in tmp_path.iterdir()}
    assert clean_stale_temps(tmp_path) == []


def test_a_save_killed_midway_leaves_a_temporary_that_the_next_save_removes(
    tmp_path: Path, digits: tasks.Task
) -> None:
    models.save(_rnn(digits), tmp_path)
    before = (tmp_path / models.CONFIG_FILE).read_bytes()
    victim = _python(
        f"""
        import os, signal
        import models
        os.replace = lambda src, dst: os.kill(os.getpid(), signal.SIGKILL)
        model = models.build("rnn", input_size=1, hidden_size=4, output_size=10, seed=3)
        models.save(model, {str(tmp_path)!r})
        """
    )
    assert victim.wait(timeout=120) == -signal.SIGKILL
    temps = sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp"))
    assert [t.split(".")[1] for t in temps] == ["config", "model"]
    assert (tmp_path / models.CONFIG_FILE).read_bytes() == before  # the old pair is intact
    models.load(tmp_path)
    models.save(_rnn(digits), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["config.json", "model.safetensors"]


# -- resume from an unreadable training state ---------------------------------------------------


class _Opaque:
    """Anything that is not a tensor or a plain value."""


def _bad_states(real: bytes) -> dict[str, object]:
    return {
        "empty": b"",
        "truncated": real[: len(real) // 2],
        "garbage": b"not a torch file at all",
        "pickled object": {"step": 1, "settings": _Opaque()},
        "without settings": {"step": 1, "model": {}, "optimizer": {}, "generator": torch.zeros(1)},
        "a list": [1, 2, 3],
        "negative step": {
            "step": -1,
            "model": {},
            "optimizer": {},
            "generator": torch.zeros(1),
            "settings": {},
        },
    }


_MATCH = {
    "empty": "the file is empty",
    "truncated": "truncated or corrupt training state",
    "garbage": "not a torch training state",
    "pickled object": "holds Python objects other than tensors",
    "without settings": "not a training state .it lacks the settings of the run",
    "a list": r"not a training state \(a list\)",
    "negative step": "the step must be a non-negative integer, got -1",
}


@pytest.mark.parametrize("case", list(_MATCH))
def test_resume_from_an_unreadable_state_is_one_clear_line(
    tmp_path: Path, digits: tasks.Task, case: str
) -> None:
    models.train(_rnn(digits), digits, _QUICK, out=tmp_path)
    state_path = tmp_path / models.STATE_FILE
    bad = _bad_states(state_path.read_bytes())[case]
    if isinstance(bad, bytes):
        state_path.write_bytes(bad)
    else:
        torch.save(bad, state_path)
    config = models.TrainConfig(steps=3, batch_size=4, checkpoint_every=1, resume=True)
    with pytest.raises(CheckpointError, match=_MATCH[case]) as info:
        models.train(_rnn(digits), digits, config, out=tmp_path)
    message = str(info.value)
    assert "\n" not in message and str(state_path) in message
    assert "weights_only" not in message and info.value.__cause__ is None
    assert models.load(tmp_path).step == 2  # the checkpoint is untouched

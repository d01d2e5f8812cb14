"""The shared machinery of the self-checks."""
import torch

import pytest

from vit_tutorial.exercises._core import call_learner, compare_tensors, failed, forbidding, passed


def test_results_are_truthy_only_when_right():
    assert passed("x") and not failed("y")
    assert repr(passed("fine")) == "Correct! fine"
    assert repr(failed("shape")).startswith("Not yet:")


def test_call_learner_reports_crashes_in_words():
    def stub(x):
        raise NotImplementedError

    value, err = call_learner(stub, 1)
    assert value is None and not err and "NotImplementedError" in err.message
    value, err = call_learner(lambda x: 1 / 0, 1)
    assert "ZeroDivisionError" in err.message
    assert call_learner(lambda x: x + 1, 1) == (2, None)
    assert "expected a function" in call_learner(3)[1].message


def test_compare_tensors_names_the_difference():
    e = torch.zeros(2, 3)
    assert compare_tensors(e.clone(), e, "out") is None
    assert "transpose" in compare_tensors(torch.zeros(3, 2), e, "out").message
    assert "(2, 3)" in compare_tensors(torch.zeros(6), e, "out").message
    assert "different values" in compare_tensors(torch.ones(2, 3), e, "out").message
    assert "torch.Tensor" in compare_tensors([0.0], e, "out").message


@pytest.mark.parametrize("got,words", [
    (torch.tensor([[0.0, float("nan"), 0.0], [0.0, 0.0, 0.0]]), ["NaN or inf"]),
    (torch.tensor([[0.0, float("inf"), 0.0], [0.0, 0.0, 0.0]]), ["NaN or inf"]),
    (torch.full((2, 3), float("nan")), ["6 NaN or inf values"]),
    (torch.zeros(2, 3, dtype=torch.float64), ["dtype", "float64", "float32"]),
    (torch.zeros(2, 3, dtype=torch.int64), ["dtype", "int64"]),
    (torch.zeros(1, 3), ["shape (1, 3)", "broadcast"]),
    (torch.zeros(2, 1), ["shape (2, 1)", "broadcast"]),
    (torch.zeros(()), ["shape ()"]),
])
def test_compare_tensors_rejects_nan_inf_dtype_and_broadcast(got, words):
    result = compare_tensors(got, torch.zeros(2, 3), "out")
    assert result is not None and not result
    for w in words:
        assert w in result.message, result.message


def test_compare_tensors_accepts_matching_non_finite_entries():
    e = torch.tensor([1.0, float("inf"), float("nan")])
    assert compare_tensors(e.clone(), e, "out") is None
    assert "different values" in compare_tensors(torch.tensor([1.0, 2.0, 3.0]), e, "out").message
    assert "different values" in compare_tensors(torch.tensor([1.5, float("inf"), float("nan")]), e, "out").message
    assert compare_tensors(torch.zeros(0, 3), torch.zeros(0, 3), "out") is None


def test_forbidding_names_the_builtin_and_restores_it():
    x = torch.randn(2, 3)
    with forbidding([(torch.Tensor, "softmax"), (torch, "softmax")], "the softmax"):
        value, err = call_learner(lambda t: t.softmax(-1), x)
        assert value is None and "Tensor.softmax" in err.message and "the softmax" in err.message
        value, err = call_learner(lambda t: torch.softmax(t, -1), x)
        assert "torch.softmax" in err.message
    assert torch.allclose(x.softmax(-1).sum(-1), torch.ones(2))
    assert "softmax" not in torch.Tensor.__dict__
    layer = torch.nn.Linear(3, 3)
    with forbidding([(layer, "forward")], "the layer"):
        assert "Linear itself" in call_learner(layer, x)[1].message
    assert layer(x).shape == (2, 3) and "forward" not in layer.__dict__

"""The shared machinery of the self-checks."""
import torch

from vit_tutorial.exercises._core import call_learner, compare_tensors, failed, passed


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

"""vit_tutorial.attention: bad input to the attention functions (their results are compared
with PyTorch's in test_reference_equality.py)."""
import torch

import vit_tutorial as vt


def test_bad_input_messages(raises_with):
    with raises_with(ValueError, "dim 64", "heads 6"):
        vt.MultiHeadSelfAttention(64, 6)
    with raises_with(ValueError, "D=32", "dim=64"):
        vt.MultiHeadSelfAttention(64, 4)(torch.zeros(2, 5, 32))
    with raises_with(ValueError, "same last dimension"):
        vt.scaled_dot_product_attention(torch.zeros(2, 3, 4), torch.zeros(2, 3, 5), torch.zeros(2, 3, 4))

"""`vit_tutorial.exercises`: self-check functions for the chapter exercises.
Each takes the learner's answer, prints in plain words what is right or
wrong, and returns a :class:`~vit_tutorial.exercises._core.CheckResult`.

The imports below are explicit so that an editor's go-to-definition finds each
name; ``tests/test_contract.py`` checks that ``__all__`` lists every module's
public names and that each has a docstring.
"""

from .analysis import (
    check_attention_distance,
    check_position_only_share,
    check_rollout,
    check_uniform_distance,
)
from .inside_model import (
    check_attention,
    check_attention_layout,
    check_batch_independent,
    check_block_flops,
    check_cost_prediction,
    check_cross_entropy,
    check_encoder_block,
    check_head_logits,
    check_initial_loss,
    check_loss_meaning,
    check_layer_norm,
    check_locality_prediction,
    check_merge_heads,
    check_official_init,
    check_param_count,
    check_softmax,
    check_split_heads,
    check_vit_l32_count,
)
from .pixels_to_tokens import (
    check_class_token_module,
    check_conv_as_linear,
    check_embedding_parameters,
    check_loose_tensor_prediction,
    check_mean_pool,
    check_num_patches,
    check_padding_prediction,
    check_patch_embedding_module,
    check_patch_index_prediction,
    check_patchify,
    check_position_similarity,
    check_position_table_module,
    check_prepend_class_token,
    check_resize_position_embedding,
    check_slicing_prediction,
    check_unpatchify,
)
from .problems import (
    check_centred_position_table,
    check_error_slope,
    check_fitted_exponent,
    check_layer_similarity,
    check_peg,
    check_window_flops,
    check_window_partition,
)
from .training import check_confusion_matrix, check_label_smoothing, check_mcnemar, check_warmup_cosine

__all__ = [
    # analysis
    "check_rollout", "check_attention_distance", "check_uniform_distance", "check_position_only_share",
    # inside_model
    "check_attention", "check_split_heads", "check_merge_heads", "check_layer_norm", "check_encoder_block",
    "check_cross_entropy", "check_softmax", "check_param_count", "check_block_flops", "check_cost_prediction",
    "check_attention_layout", "check_locality_prediction", "check_batch_independent", "check_head_logits",
    "check_initial_loss", "check_loss_meaning", "check_vit_l32_count", "check_official_init",
    # pixels_to_tokens
    "check_num_patches", "check_patchify", "check_unpatchify", "check_patch_index_prediction",
    "check_conv_as_linear", "check_embedding_parameters", "check_patch_embedding_module",
    "check_padding_prediction", "check_prepend_class_token", "check_mean_pool", "check_class_token_module",
    "check_loose_tensor_prediction", "check_position_similarity", "check_resize_position_embedding",
    "check_position_table_module", "check_slicing_prediction",
    # problems
    "check_fitted_exponent", "check_error_slope", "check_layer_similarity", "check_centred_position_table",
    "check_window_partition", "check_peg", "check_window_flops",
    # training
    "check_confusion_matrix", "check_label_smoothing", "check_warmup_cosine", "check_mcnemar",
]

"""`vit_tutorial.viz`: pure plotting functions. Each returns a matplotlib
``Figure`` and never calls ``plt.show()``. One module per part of the book;
every public name is also available from here.

The imports below are explicit so that an editor's go-to-definition finds each
name; ``tests/test_contract.py`` checks that ``__all__`` lists every module's
public names and that each has a docstring.
"""

from .after_vit import plot_attention_cost, plot_attention_flops, plot_peg_signal, plot_window_partition
from .analysis import (
    animate_attention_sweep,
    plot_attention_distance,
    plot_attention_grid,
    plot_deletion_curves,
    plot_filter_components,
    plot_position_similarity_grid,
    plot_query_attention,
    plot_rollout_maps,
)
from .attention import (
    animate_head_attention,
    handcrafted_attention,
    HandcraftedAttention,
    HEAD_NAMES,
    patch_features,
    plot_attention_matrices,
    plot_attention_memory,
    plot_head_attention,
    plot_head_split,
)
from .model import (
    parameter_breakdown,
    PARAMETER_PARTS,
    plot_activation_functions,
    plot_class_probabilities,
    plot_model_cost,
    plot_norm_placement,
    plot_shape_flow,
    plot_token_similarity_depth,
    plot_weight_sizes,
)
from .overview import model_map_steps, ModelMapStep, plot_model_map
from .patches import (
    animate_patch_sizes,
    figure_to_png,
    patch_sizes_dividing,
    plot_patch_grid,
    plot_patch_matrix,
    plot_patch_sequence,
    plot_shuffled_patches,
)
from .performance import (
    load_result,
    plot_attention_paths,
    plot_book_time,
    plot_machine_limit,
    plot_throughput,
    plot_time_breakdown,
    plot_training_time,
    RESULTS_DIR,
    results_table,
    ResultsTable,
)
from .problems import (
    animate_resolution_sweep,
    animate_window_reach,
    EXPERIMENTS_DIR,
    load_experiment,
    plot_attention_entropy,
    plot_attention_reach,
    plot_data_hunger,
    plot_depth_collapse,
    plot_error_curves,
    plot_layer_similarity,
    plot_locality,
    plot_patch_shuffle,
    plot_power_laws,
    plot_resolution_samples,
    plot_resolution_transfer,
    plot_shifted_windows,
    plot_shuffle_arms,
    plot_variants,
    summarise_runs,
)
from .tokens import (
    plot_agreement,
    plot_filter_response,
    plot_patch_embedding,
    plot_patch_similarity,
    plot_pooling_comparison,
    plot_position_resize,
    plot_position_similarity,
    plot_token_sequence,
    position_similarity,
)
from .training import (
    animate_augmentation,
    plot_accuracy_runs,
    plot_arm_errors,
    plot_augmentation,
    plot_confusion_matrix,
    plot_dataset_samples,
    plot_lr_schedule,
    plot_misclassified,
    plot_seed_bands,
    plot_training_curves,
)

__all__ = [
    # after_vit
    "plot_window_partition", "plot_attention_flops", "plot_attention_cost", "plot_peg_signal",
    # analysis
    "plot_attention_grid", "plot_query_attention", "plot_rollout_maps", "plot_attention_distance",
    "plot_position_similarity_grid", "plot_filter_components", "animate_attention_sweep",
    "plot_deletion_curves",
    # attention
    "HEAD_NAMES", "HandcraftedAttention", "patch_features", "handcrafted_attention", "plot_head_attention",
    "plot_attention_matrices", "plot_head_split", "plot_attention_memory", "animate_head_attention",
    # model
    "plot_norm_placement", "plot_activation_functions", "plot_class_probabilities", "plot_shape_flow",
    "PARAMETER_PARTS", "parameter_breakdown", "plot_model_cost", "plot_weight_sizes",
    "plot_token_similarity_depth",
    # overview
    "ModelMapStep", "model_map_steps", "plot_model_map",
    # patches
    "patch_sizes_dividing", "plot_patch_grid", "plot_patch_sequence", "plot_patch_matrix",
    "plot_shuffled_patches", "animate_patch_sizes", "figure_to_png",
    # performance
    "RESULTS_DIR", "load_result", "ResultsTable", "results_table", "plot_throughput", "plot_machine_limit",
    "plot_time_breakdown", "plot_attention_paths", "plot_book_time", "plot_training_time",
    # problems
    "EXPERIMENTS_DIR", "load_experiment", "summarise_runs", "plot_data_hunger", "plot_locality",
    "plot_power_laws", "plot_layer_similarity", "plot_resolution_transfer", "plot_patch_shuffle",
    "plot_attention_entropy", "plot_resolution_samples", "animate_resolution_sweep", "plot_attention_reach",
    "plot_shifted_windows", "animate_window_reach", "plot_variants", "plot_error_curves", "plot_shuffle_arms",
    "plot_depth_collapse",
    # tokens
    "plot_patch_embedding", "plot_agreement", "plot_token_sequence", "plot_position_similarity",
    "plot_position_resize", "plot_pooling_comparison", "position_similarity", "plot_patch_similarity",
    "plot_filter_response",
    # training
    "plot_dataset_samples", "plot_augmentation", "animate_augmentation", "plot_lr_schedule",
    "plot_training_curves", "plot_accuracy_runs", "plot_seed_bands", "plot_arm_errors",
    "plot_confusion_matrix", "plot_misclassified",
]

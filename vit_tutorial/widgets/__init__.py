"""`vit_tutorial.widgets`: ipywidgets explorers for the live notebooks. Each
is a thin wrapper over a `vit_tutorial.viz` function. One module per part of
the book; every public name is also available from here.

The imports below are explicit so that an editor's go-to-definition finds each
name; ``tests/test_contract.py`` checks that ``__all__`` lists every module's
public names and that each has a docstring.
"""

from .after_vit import (
    attention_flops_explorer,
    AttentionFlopsExplorer,
    window_reach_explorer,
    WindowReachExplorer,
)
from .analysis import attention_explorer
from .attention import head_attention_explorer, HeadAttentionExplorer
from .model import cost_explorer, CostExplorer, loss_explorer, LossExplorer, residual_explorer, ResidualExplorer
from .patches import patch_explorer, PatchExplorer
from .problems import resolution_explorer
from .tokens import (
    CLASS_TOKEN_STARTS,
    class_token_explorer,
    ClassTokenExplorer,
    filter_explorer,
    FilterExplorer,
    position_similarity_explorer,
    PositionSimilarityExplorer,
)
from .training import augmentation_explorer, AugmentationExplorer, schedule_explorer, ScheduleExplorer

__all__ = [
    # after_vit
    "WindowReachExplorer", "window_reach_explorer", "AttentionFlopsExplorer", "attention_flops_explorer",
    # analysis
    "attention_explorer",
    # attention
    "HeadAttentionExplorer", "head_attention_explorer",
    # model
    "ResidualExplorer", "residual_explorer", "LossExplorer", "loss_explorer", "CostExplorer", "cost_explorer",
    # patches
    "PatchExplorer", "patch_explorer",
    # problems
    "resolution_explorer",
    # tokens
    "FilterExplorer", "filter_explorer", "ClassTokenExplorer", "class_token_explorer", "PositionSimilarityExplorer", "position_similarity_explorer",
    "CLASS_TOKEN_STARTS",
    # training
    "ScheduleExplorer", "schedule_explorer", "AugmentationExplorer", "augmentation_explorer",
]

"""Every component id of the dashboard, spelled once.

The first block is the stable public set that tests and automation rely on; the rest are
internal (kind-prefixed).
"""

# Stable ids (see the dashboard issue): do not rename.
MODEL_SELECT = "model-select"
PATTERN_UPLOAD = "pattern-upload"
SAMPLE_SELECT = "sample-select"
SEED_INPUT = "seed-input"
SEED_BUTTON = "seed-button"
GRID_ROWS = "grid-rows"
GRID_COLS = "grid-cols"
SIZE_LIMIT = "size-limit"
PAGE_SELECT = "page-select"
ACTIVATION_GRAPH = "activation-graph"
PREDICTION_GRAPH = "prediction-graph"
PATTERN_GRAPH = "pattern-graph"
EXPORT_BUTTON = "export-button"
EXPORT_DOWNLOAD = "export-download"
PAGE_EXPORT_BUTTON = "page-export-button"
ERROR_ALERT = "error-alert"

# Internal ids.
PATTERN_STORE = "store-pattern"
COLORSCALE_SELECT = "select-colorscale"
#: Retired: norm-mode's "per page" is the one colour scale for all panels now.
COLORBAR_SWITCH = "switch-shared-colorbar"
PLOT_MODEL_SWITCH = "switch-plot-model"
MODEL_INFO = "text-model-info"
PATTERN_INFO = "text-pattern-info"
GRID_SUMMARY = "text-grid-summary"
LOADING = "loading-activations"
#: ``{"model", "layer"}`` of the layer a user picked; shared by feature sections.
SELECTED_LAYER_STORE = "store-selected-layer"

# Model upload (issue 12): a session's own models.
MODEL_UPLOAD = "model-upload"
MODEL_UPLOAD_STORE = "store-model-uploads"
MODEL_UPLOAD_INFO = "text-model-upload-info"
#: The check of an upload in progress (issue 25, row 2): its ticket, and the poll that reads it.
MODEL_UPLOAD_PENDING = "store-model-upload-pending"
MODEL_UPLOAD_POLL = "interval-model-upload-poll"
# Explain and architecture features (issue 10): the stable ids, then internal ones.
EXPLAIN_METHOD = "explain-method"
EXPLAIN_LAYER = "explain-layer"
EXPLAIN_GRAPH = "explain-graph"
EXPLAIN_OPACITY = "explain-opacity"
EXPLAIN_TARGET = "explain-target"
ARCHITECTURE_GRAPH = "architecture-graph"
EXPLAIN_CLASS_STORE = "store-explain-class"
EXPLAIN_TOP_BUTTON = "button-explain-top-class"
ARCHITECTURE_STATISTIC = "select-architecture-statistic"
ARCHITECTURE_COLLAPSED = "store-architecture-collapsed"
ARCHITECTURE_LAYER_INFO = "text-architecture-layer"
ARCHITECTURE_LAYER_GRAPH = "graph-architecture-layer"
# Layer inspector and model health (layerviz.ui.features.inspector). Stable: do not rename.
LAYER_INSPECTOR = "layer-inspector"
CHANNEL_SORT = "channel-sort"
TOPK_SLIDER = "topk-slider"
CHANNEL_GRAPH = "channel-graph"
STATS_TABLE = "stats-table"
STATS_DOWNLOAD = "stats-download"
NORM_MODE = "norm-mode"
HEALTH_BUTTON = "health-button"
HEALTH_PROGRESS = "health-progress"
# Internal.
INSPECTOR_TITLE = "text-inspector-title"
INSPECTOR_SUMMARY = "text-inspector-summary"
CHANNEL_PAGE = "pagination-channel-page"
STATS_HISTOGRAM = "graph-stats-histogram"
STATS_FILE = "download-stats"
HEALTH_SEEDS = "input-health-seeds"
HEALTH_SOURCE = "radio-health-source"
HEALTH_STORE = "store-health"
HEALTH_SUMMARY = "text-health-summary"
URL_VIEW = "url-view"
URL_TARGET = "store-url-target"
URL_BOOT = "interval-url-boot"
# The selected channel over the input, and stepping through channels. Stable: the first four.
CHANNEL_OVERLAY = "channel-overlay"
OVERLAY_OPACITY = "overlay-opacity"
CHANNEL_PREV = "channel-prev"
CHANNEL_NEXT = "channel-next"
SELECTED_CHANNEL_STORE = "store-selected-channel"
OVERLAY_CAPTION = "text-overlay-caption"
#: The focusable region in which ← / → step through channels (assets/channel-keys.js).
CHANNEL_KEYS = "region-channel-keys"


# Compare two patterns (layerviz.ui.features.compare). Stable: the first four.
COMPARE_SWITCH = "compare-switch"
PATTERN_B_SOURCE = "pattern-b-source"
PERTURB_SELECT = "perturb-select"
DIVERGENCE_GRAPH = "divergence-graph"
COMPARE_STORE = "store-pattern-b"
COMPARE_COLLAPSE = "collapse-compare"
COMPARE_PANEL = "panel-compare"
PERTURB_VALUES = "input-perturb-values"
PATTERN_B_SEED = "input-pattern-b-seed"
PATTERN_B_SAMPLE = "select-pattern-b-sample"
PATTERN_B_UPLOAD = "upload-pattern-b"
#: B = A as a recorded training run saw it at the end of an epoch (issue 22).
PATTERN_B_RUN = "select-pattern-b-run"
PATTERN_B_EPOCH = "input-pattern-b-epoch"
COMPARE_GRAPH = "graph-compare"
COMPARE_PAGE = "pager-compare"
COMPARE_SUMMARY = "text-compare-summary"
COMPARE_SELECTED = "text-compare-selected"
COMPARE_PREDICTION_A = "graph-compare-prediction-a"
COMPARE_PREDICTION_B = "graph-compare-prediction-b"
#: A's and B's inputs side by side in the Compare tab (issue 20).
COMPARE_INPUT_A = "graph-compare-input-a"
COMPARE_INPUT_B = "graph-compare-input-b"
COMPARE_EXPORT_BUTTON = "button-compare-export"
COMPARE_DOWNLOAD = "download-compare"
# Background export (serve a team): stable ids from the issue, then internal ones.
EXPORT_PROGRESS = "export-progress"
EXPORT_CANCEL = "export-cancel"
EXPORT_ZIP_DOWNLOAD = "download-export-zip"


# The core page's internals (issue 13).
#: A new pattern's recipe and figures (``{"recipe", "pattern", "prediction", "info"}``), from
#: the response that drew the grid; copied into the figures and ``PATTERN_STORE`` after it.
PATTERN_VIEW_STORE = "store-pattern-view"

# The health run in the background (layerviz.ui.features.inspector.health). Stable: the first
# three.
HEALTH_THRESHOLD = "health-threshold"
HEALTH_UPLOAD = "health-upload"
HEALTH_CANCEL = "health-cancel"
HEALTH_BATCH_STORE = "store-health-batch"
HEALTH_BATCH_INFO = "text-health-batch"

# One pattern source per input of a model with several inputs (issue 12): a fixed number of
# rows in the Pattern section, row i for input i, shown only for such a model.
#: Inputs that get a row of their own (a model with more takes the rest from the whole pattern).
MAX_INPUT_ROWS = 4
INPUT_SOURCES = "panel-input-sources"
INPUT_ROWS = tuple(f"row-input-source-{i}" for i in range(MAX_INPUT_ROWS))
INPUT_LABELS = tuple(f"text-input-source-label-{i}" for i in range(MAX_INPUT_ROWS))
INPUT_NOW = tuple(f"text-input-source-now-{i}" for i in range(MAX_INPUT_ROWS))
INPUT_SEEDS = tuple(f"input-source-seed-{i}" for i in range(MAX_INPUT_ROWS))
INPUT_UPLOADS = tuple(f"upload-input-source-{i}" for i in range(MAX_INPUT_ROWS))

# The grid drawn as image tiles (issue 13) and norm-mode on the grid and the export (issue 8).
#: The hover label of the activation grid: the exact value under the pointer, from the server.
GRID_TOOLTIP = "tooltip-grid"
#: Draw the exported PNGs under the on-screen norm-mode (off: the article's per-panel range).
EXPORT_NORM_SWITCH = "switch-export-norm"

# The workspace (issue 20): the control panel folds, the detail pane's tabs beside the grid.
CONTROLS_PANEL = "panel-controls"
CONTROLS_TOGGLE = "button-controls-toggle"
DETAIL_PANE = "detail-pane"
DETAIL_TABS = "detail-tabs"
#: The keys of the tabs whose bodies are built (``layerviz.ui.workspace``).
TABS_OPENED = "store-tabs-opened"
#: Tabs to build without showing them: Compare when a shared link names a pattern B.
TABS_WANTED = "store-tabs-wanted"
#: The pixels the inspector's channels may take across (measured in the browser): its tiles
#: fill the pane's width (``assets/workspace.js``).
INSPECTOR_WIDTH = "store-inspector-width"
#: What the page asks the server for on open only when there is something to ask (issue 20's
#: request count): the session's uploaded models when it has some, a link's target when the
#: URL names a view. Written in the browser from ``MODEL_UPLOAD_STORE`` and ``URL_TARGET``.
MODEL_UPLOADS_KEPT = "store-model-uploads-kept"
URL_LINKED = "store-url-linked"
#: The picked layer's line at the head of the pane: ``"conv2 · Conv2D · 16×16×32"``.
SELECTION_TEXT = "text-selection"
#: The perturbation values box's own message, beside it (an invalid value is said there).
PERTURB_FEEDBACK = "text-perturb-feedback"

# The inspector's "what it looks for" row (issue 24): the pattern each channel on the page wants.
LOOKS_FOR_BUTTON = "button-looks-for"
LOOKS_FOR_CANCEL = "button-looks-for-cancel"
LOOKS_FOR_PROGRESS = "progress-looks-for"
LOOKS_FOR_STATUS = "text-looks-for"
LOOKS_FOR_ROW = "row-looks-for"
LOOKS_FOR_STORE = "store-looks-for"
LOOKS_FOR_MIN = "input-looks-for-min"
LOOKS_FOR_MAX = "input-looks-for-max"
LOOKS_FOR_STEPS = "input-looks-for-steps"
LOOKS_FOR_RANGE_NOTE = "text-looks-for-range"

# Training run (issue 22): a recorded run scrubbed through its epochs. Stable: do not rename.
RUN_SELECT = "run-select"
RUN_EPOCH_SLIDER = "run-epoch-slider"
RUN_PLAY = "run-play"
RUN_GRID = "run-grid"
RUN_PAGE = "pager-run"
RUN_CURVES = "run-curves"
RUN_STRIP = "run-strip"
# Internal.
RUN_INTERVAL = "interval-run-play"
RUN_PATTERN = "select-run-pattern"
RUN_RANGE = "radio-run-range"
RUN_INFO = "text-run-info"
RUN_EPOCH_LABEL = "text-run-epoch"
RUN_SHOWN_STORE = "store-run-shown"

# The dataset lens (layerviz.ui.features.dataset, issue 23): a dataset through every layer.
DATASET_SOURCE = "dataset-source"
DATASET_UPLOAD = "dataset-upload"
DATASET_UPLOAD_STORE = "store-dataset-upload"
DATASET_UPLOAD_INFO = "text-dataset-upload"
DATASET_RUN = "dataset-run"
DATASET_CANCEL = "dataset-cancel"
DATASET_PROGRESS = "dataset-progress"
DATASET_SUMMARY = "text-dataset-summary"
#: The finished run (``jobs.run_lens``'s store form).
DATASET_STORE = "store-dataset-result"
DATASET_LAYER = "dataset-layer"
DATASET_METHOD = "dataset-projection-method"
DATASET_COLOUR = "dataset-colour-by"
DATASET_PROJECTION = "graph-dataset-projection"
DATASET_THUMBNAIL = "img-dataset-thumbnail"
DATASET_THUMBNAIL_TEXT = "text-dataset-thumbnail"
DATASET_PROBE = "graph-dataset-probe"
DATASET_CKA = "graph-dataset-cka"
DATASET_CKA_TEXT = "text-dataset-cka"
#: The selected channel's dataset examples (top-k patterns), as the inspector selects it.
#: The same channel's dataset examples inside the inspector card: most and least exciting.
INSPECTOR_EXAMPLES = "panel-inspector-examples"
# Architecture graph's block view and search (issue 20).
ARCHITECTURE_SEARCH = "input-architecture-search"
ARCHITECTURE_SEARCH_LIST = "list-architecture-layers"
ARCHITECTURE_SEARCH_INFO = "text-architecture-search"

// The Web Awesome components the UI uses (vendored: see vendor/README.md). Keep this list and
// COMPONENTS in scripts/vendor-web the same: that script copies only these and their imports.
import '../vendor/webawesome/components/button/button.js';
import '../vendor/webawesome/components/callout/callout.js';
import '../vendor/webawesome/components/checkbox/checkbox.js';
import '../vendor/webawesome/components/dialog/dialog.js';
import '../vendor/webawesome/components/input/input.js';
import '../vendor/webawesome/components/option/option.js';
import '../vendor/webawesome/components/progress-bar/progress-bar.js';
import '../vendor/webawesome/components/select/select.js';
import '../vendor/webawesome/components/spinner/spinner.js';
import '../vendor/webawesome/components/tab/tab.js';
import '../vendor/webawesome/components/tab-group/tab-group.js';
import '../vendor/webawesome/components/tab-panel/tab-panel.js';
import '../vendor/webawesome/components/textarea/textarea.js';
import '../vendor/webawesome/components/tree/tree.js';
import '../vendor/webawesome/components/tree-item/tree-item.js';

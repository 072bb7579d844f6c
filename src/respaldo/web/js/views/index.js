// Every view and tab of the content panel; a new one is an import here (see registry.js).
import './datacenter.js';
import './node.js';
import './qemu.js';
import './storage.js';
import '../jobs/view.js';
import '../notifications/view.js';

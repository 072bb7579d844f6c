/*! Copyright 2026 Fonticons, Inc. - https://webawesome.com/license */

// ../../node_modules/lit-html/directives/when.js
function n(n2, r, t) {
  return n2 ? r(n2) : t?.(n2);
}

export {
  n
};
/*! Bundled license information:

lit-html/directives/when.js:
  (**
   * @license
   * Copyright 2021 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)
*/

/*! Copyright 2026 Fonticons, Inc. - https://webawesome.com/license */
import {
  Z
} from "./chunk.BKE5EYM3.js";

// ../../node_modules/lit-html/directive-helpers.js
var { I: t } = Z;
var i = (o) => null === o || "object" != typeof o && "function" != typeof o;
var n = { HTML: 1, SVG: 2, MATHML: 3 };
var e = (o, t2) => void 0 === t2 ? void 0 !== o?._$litType$ : o?._$litType$ === t2;
var l = (o) => null != o?._$litType$?.h;
var d = (o) => o?._$litDirective$;
var f = (o) => void 0 === o.strings;
var u = {};
var m = (o, t2 = u) => o._$AH = t2;

export {
  i,
  n,
  e,
  l,
  d,
  f,
  m
};
/*! Bundled license information:

lit-html/directive-helpers.js:
  (**
   * @license
   * Copyright 2020 Google LLC
   * SPDX-License-Identifier: BSD-3-Clause
   *)
*/

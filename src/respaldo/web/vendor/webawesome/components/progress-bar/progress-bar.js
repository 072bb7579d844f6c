/*! Copyright 2026 Fonticons, Inc. - https://webawesome.com/license */
import {
  WaProgressBar
} from "../../chunks/chunk.KSVLZZAC.js";
import "../../chunks/chunk.ZSNU3QL4.js";
import "../../chunks/chunk.O6IZ4I7T.js";
import "../../chunks/chunk.3MSWQ3RG.js";
import "../../chunks/chunk.LBLI4KS5.js";
import "../../chunks/chunk.DL7HG4WM.js";
import "../../chunks/chunk.D5HA4OFX.js";
import "../../chunks/chunk.HOKYDFUG.js";
import "../../chunks/chunk.TLFIX76K.js";
import "../../chunks/chunk.BKE5EYM3.js";
import "../../chunks/chunk.JHZRD2LV.js";
export {
  WaProgressBar as default
};

/*! Copyright 2026 Fonticons, Inc. - https://webawesome.com/license */
import {
  WaSpinner
} from "../../chunks/chunk.L2PH6XPF.js";
import "../../chunks/chunk.RKPV5RWB.js";
import "../../chunks/chunk.LBLI4KS5.js";
import "../../chunks/chunk.DL7HG4WM.js";
import "../../chunks/chunk.D5HA4OFX.js";
import "../../chunks/chunk.HOKYDFUG.js";
import "../../chunks/chunk.TLFIX76K.js";
import "../../chunks/chunk.BKE5EYM3.js";
import "../../chunks/chunk.JHZRD2LV.js";
export {
  WaSpinner as default
};

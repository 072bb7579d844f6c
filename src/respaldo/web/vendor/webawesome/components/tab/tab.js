/*! Copyright 2026 Fonticons, Inc. - https://webawesome.com/license */
import {
  WaTab
} from "../../chunks/chunk.KH7MR2OK.js";
import "../../chunks/chunk.5ZSSLK3M.js";
import "../../chunks/chunk.KWDPKKFO.js";
import "../../chunks/chunk.PZAN6FPN.js";
import "../../chunks/chunk.LBLI4KS5.js";
import "../../chunks/chunk.H23DVATU.js";
import "../../chunks/chunk.TLFIX76K.js";
import "../../chunks/chunk.BKE5EYM3.js";
import "../../chunks/chunk.JHZRD2LV.js";
export {
  WaTab as default
};

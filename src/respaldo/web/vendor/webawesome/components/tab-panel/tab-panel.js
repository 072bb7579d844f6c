/*! Copyright 2026 Fonticons, Inc. - https://webawesome.com/license */
import {
  WaTabPanel
} from "../../chunks/chunk.2SO23SX3.js";
import "../../chunks/chunk.IOZQCLLD.js";
import "../../chunks/chunk.KWDPKKFO.js";
import "../../chunks/chunk.PZAN6FPN.js";
import "../../chunks/chunk.LBLI4KS5.js";
import "../../chunks/chunk.H23DVATU.js";
import "../../chunks/chunk.TLFIX76K.js";
import "../../chunks/chunk.BKE5EYM3.js";
import "../../chunks/chunk.JHZRD2LV.js";
export {
  WaTabPanel as default
};

/*! Copyright 2026 Fonticons, Inc. - https://webawesome.com/license */
import {
  WaCallout
} from "../../chunks/chunk.BGEID5TE.js";
import "../../chunks/chunk.UIKY7WPI.js";
import "../../chunks/chunk.RPQJAXXR.js";
import "../../chunks/chunk.JB5Y2AN3.js";
import "../../chunks/chunk.K5Q2EBKV.js";
import "../../chunks/chunk.PZAN6FPN.js";
import "../../chunks/chunk.LBLI4KS5.js";
import "../../chunks/chunk.TLFIX76K.js";
import "../../chunks/chunk.BKE5EYM3.js";
import "../../chunks/chunk.JHZRD2LV.js";
export {
  WaCallout as default
};

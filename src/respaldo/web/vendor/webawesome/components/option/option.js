/*! Copyright 2026 Fonticons, Inc. - https://webawesome.com/license */
import {
  WaOption
} from "../../chunks/chunk.ASU4ZOK4.js";
import "../../chunks/chunk.IHXCBN37.js";
import "../../chunks/chunk.SLTXS4GR.js";
import "../../chunks/chunk.MEATLWHD.js";
import "../../chunks/chunk.YDQCS2HK.js";
import "../../chunks/chunk.WDIIGUNP.js";
import "../../chunks/chunk.WLKYECLX.js";
import "../../chunks/chunk.PZAN6FPN.js";
import "../../chunks/chunk.LBLI4KS5.js";
import "../../chunks/chunk.EFUXUR2V.js";
import "../../chunks/chunk.DL7HG4WM.js";
import "../../chunks/chunk.D5HA4OFX.js";
import "../../chunks/chunk.HOKYDFUG.js";
import "../../chunks/chunk.UDRJMWVZ.js";
import "../../chunks/chunk.KKI7M5DP.js";
import "../../chunks/chunk.HGBRCPUS.js";
import "../../chunks/chunk.YPRC5XZF.js";
import "../../chunks/chunk.TLFIX76K.js";
import "../../chunks/chunk.BKE5EYM3.js";
import "../../chunks/chunk.JHZRD2LV.js";
export {
  WaOption as default
};

/*! Copyright 2026 Fonticons, Inc. - https://webawesome.com/license */
import {
  WaTextarea
} from "../../chunks/chunk.XMNDC2OW.js";
import "../../chunks/chunk.HU5FIEKB.js";
import "../../chunks/chunk.UK2M7WPO.js";
import "../../chunks/chunk.HJ65SLMP.js";
import "../../chunks/chunk.K5EDTD7G.js";
import "../../chunks/chunk.R7QX4M6R.js";
import "../../chunks/chunk.5VKLVAP2.js";
import "../../chunks/chunk.VC3BPUZJ.js";
import "../../chunks/chunk.RPQJAXXR.js";
import "../../chunks/chunk.RWNXKUCF.js";
import "../../chunks/chunk.JB5Y2AN3.js";
import "../../chunks/chunk.3MSWQ3RG.js";
import "../../chunks/chunk.KWDPKKFO.js";
import "../../chunks/chunk.PZAN6FPN.js";
import "../../chunks/chunk.LBLI4KS5.js";
import "../../chunks/chunk.H23DVATU.js";
import "../../chunks/chunk.EFUXUR2V.js";
import "../../chunks/chunk.DL7HG4WM.js";
import "../../chunks/chunk.D5HA4OFX.js";
import "../../chunks/chunk.HOKYDFUG.js";
import "../../chunks/chunk.TLFIX76K.js";
import "../../chunks/chunk.BKE5EYM3.js";
import "../../chunks/chunk.JHZRD2LV.js";
export {
  WaTextarea as default
};

/*! Copyright 2026 Fonticons, Inc. - https://webawesome.com/license */
import {
  WaTree
} from "../../chunks/chunk.M3V3HAFX.js";
import "../../chunks/chunk.LCFSCRUJ.js";
import "../../chunks/chunk.F2PHWUN2.js";
import "../../chunks/chunk.ZSEFTQAO.js";
import "../../chunks/chunk.26QE47KB.js";
import "../../chunks/chunk.FYKN76UA.js";
import "../../chunks/chunk.U36KZLSQ.js";
import "../../chunks/chunk.AG44H7MD.js";
import "../../chunks/chunk.Q6XMGFWJ.js";
import "../../chunks/chunk.FNFKITIN.js";
import "../../chunks/chunk.J7EXAHCE.js";
import "../../chunks/chunk.YXOWVBUA.js";
import "../../chunks/chunk.4AI6OCVC.js";
import "../../chunks/chunk.YNIJJMXK.js";
import "../../chunks/chunk.GWSUX3V5.js";
import "../../chunks/chunk.HJ65SLMP.js";
import "../../chunks/chunk.K5EDTD7G.js";
import "../../chunks/chunk.O6IZ4I7T.js";
import "../../chunks/chunk.L2PH6XPF.js";
import "../../chunks/chunk.RKPV5RWB.js";
import "../../chunks/chunk.5VKLVAP2.js";
import "../../chunks/chunk.VC3BPUZJ.js";
import "../../chunks/chunk.RPQJAXXR.js";
import "../../chunks/chunk.RWNXKUCF.js";
import "../../chunks/chunk.JB5Y2AN3.js";
import "../../chunks/chunk.3MSWQ3RG.js";
import "../../chunks/chunk.L6CIKOFQ.js";
import "../../chunks/chunk.KWDPKKFO.js";
import "../../chunks/chunk.SLTXS4GR.js";
import "../../chunks/chunk.MEATLWHD.js";
import "../../chunks/chunk.YDQCS2HK.js";
import "../../chunks/chunk.WDIIGUNP.js";
import "../../chunks/chunk.WLKYECLX.js";
import "../../chunks/chunk.PZAN6FPN.js";
import "../../chunks/chunk.LBLI4KS5.js";
import "../../chunks/chunk.H23DVATU.js";
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
  WaTree as default
};

/*! Copyright 2026 Fonticons, Inc. - https://webawesome.com/license */

//! See lib.rs for the layer map.

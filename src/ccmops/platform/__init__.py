"""The platform layer: what is not domain. Fast write paths (`upsert`, `pipeline`, `compiled`), the garbage
collector's pause (`collector`), forked worker processes (`forked`), PDF rendering (`pdf`) and text safety for
exports and inputs (`csv_cells`, `numerals`). Every other layer may use it; it imports none of them."""

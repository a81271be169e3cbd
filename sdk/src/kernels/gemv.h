#pragma once

#include <cstdint>

namespace peft::kernels {

/// y = W x (+ b) for a row-major float32 W of `rows` × `cols` with contiguous rows, x of `cols` and y of `rows`
/// (b may be null): the one-token product of generation. Rows are split over LibTorch's intra-op threads; each row
/// is a dot product accumulated in 16 float lanes, so the sum's order (not its value beyond rounding) differs from
/// a BLAS's. Why peft carries its own: docs/kernels.md.
void gemv(const float* w, std::int64_t rows, std::int64_t cols, const float* x, const float* b, float* y);

}  // namespace peft::kernels

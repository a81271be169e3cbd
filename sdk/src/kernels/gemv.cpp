#include "kernels/gemv.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>

namespace peft::kernels {
namespace {

// Eight float lanes: GCC and Clang lower them to one AVX register where the clone below allows it, to two SSE ones
// otherwise.
using Lanes = float __attribute__((vector_size(32)));
constexpr std::int64_t kLanes = 8;
constexpr std::int64_t kStep = 2 * kLanes;  // two registers per row per step, to keep two multiply-add chains in flight
constexpr std::int64_t kRowsTogether = 4;   // rows sharing each load of x

// Vectors cross these helpers by reference: by value, a 32-byte vector's calling convention would differ between
// the AVX clones and the helpers (Clang refuses it, GCC warns).
void load(Lanes& v, const float* p) { std::memcpy(&v, p, sizeof v); }

// acc += w[0..8) * x.
void multiply_add(Lanes& acc, const float* w, const Lanes& x) {
  Lanes v;
  load(v, w);
  acc += v * x;
}

float sum_lanes(const Lanes& v) {
  float total = 0.0F;
  for (std::int64_t lane = 0; lane < kLanes; ++lane) total += v[lane];
  return total;
}

// The dot products of rows [begin, end) with x, kRowsTogether at a time, then the rows left one by one; columns past
// the last whole step are added one by one.
__attribute__((target_clones("avx512f", "avx2", "default"))) void dot_rows(const float* w, std::int64_t cols,
                                                                           const float* x, float* y, std::int64_t begin,
                                                                           std::int64_t end) {
  const std::int64_t whole = cols / kStep * kStep;
  std::int64_t r = begin;
  for (; r + kRowsTogether <= end; r += kRowsTogether) {
    const float* w0 = w + r * cols;
    const float* w1 = w0 + cols;
    const float* w2 = w1 + cols;
    const float* w3 = w2 + cols;
    Lanes a0{}, b0{}, a1{}, b1{}, a2{}, b2{}, a3{}, b3{};
    for (std::int64_t i = 0; i < whole; i += kStep) {
      Lanes xa, xb;
      load(xa, x + i);
      load(xb, x + i + kLanes);
      multiply_add(a0, w0 + i, xa);
      multiply_add(b0, w0 + i + kLanes, xb);
      multiply_add(a1, w1 + i, xa);
      multiply_add(b1, w1 + i + kLanes, xb);
      multiply_add(a2, w2 + i, xa);
      multiply_add(b2, w2 + i + kLanes, xb);
      multiply_add(a3, w3 + i, xa);
      multiply_add(b3, w3 + i + kLanes, xb);
    }
    a0 += b0;
    a1 += b1;
    a2 += b2;
    a3 += b3;
    float t0 = sum_lanes(a0), t1 = sum_lanes(a1), t2 = sum_lanes(a2), t3 = sum_lanes(a3);
    for (std::int64_t i = whole; i < cols; ++i) {
      t0 += w0[i] * x[i];
      t1 += w1[i] * x[i];
      t2 += w2[i] * x[i];
      t3 += w3[i] * x[i];
    }
    y[r] = t0;
    y[r + 1] = t1;
    y[r + 2] = t2;
    y[r + 3] = t3;
  }
  for (; r < end; ++r) {
    const float* row = w + r * cols;
    Lanes a{}, b{};
    for (std::int64_t i = 0; i < whole; i += kStep) {
      Lanes xa, xb;
      load(xa, x + i);
      load(xb, x + i + kLanes);
      multiply_add(a, row + i, xa);
      multiply_add(b, row + i + kLanes, xb);
    }
    a += b;
    float t = sum_lanes(a);
    for (std::int64_t i = whole; i < cols; ++i) t += row[i] * x[i];
    y[r] = t;
  }
}

// Rows per task: about 512 KiB of weight each, so a thread's share is worth waking it for (a 128 x 512 weight ran
// slower split over two threads than on one).
std::int64_t grain_rows(std::int64_t cols) {
  constexpr std::int64_t kFloatsPerTask = 128 * 1024;
  return std::max<std::int64_t>(kRowsTogether,
                                kFloatsPerTask / std::max<std::int64_t>(cols, 1) / kRowsTogether * kRowsTogether);
}

}  // namespace

void gemv(const float* w, std::int64_t rows, std::int64_t cols, const float* x, const float* b, float* y) {
  at::parallel_for(0, rows, grain_rows(cols), [&](std::int64_t begin, std::int64_t end) {
    dot_rows(w, cols, x, y, begin, end);
    if (b != nullptr) {
      for (std::int64_t r = begin; r < end; ++r) y[r] += b[r];
    }
  });
}

}  // namespace peft::kernels

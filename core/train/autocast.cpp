#include "train/autocast.h"

#include <ATen/autocast_mode.h>

#include "cpu_features.h"

namespace peft {

std::string mixed_precision_note(MixedPrecision precision, const at::Device& device) {
  if (precision != MixedPrecision::bf16 || !device.is_cpu()) return "";
  const CpuFeatures cpu = cpu_features();
  if (cpu.avx512_bf16 || cpu.amx_bf16) return "";
  return "mixed_precision = \"bf16\" on a CPU without AVX512-BF16 or AMX-BF16 (" + cpu.model +
         "): LibTorch's bf16 matmuls run at a fraction of float32's speed here";
}

AutocastScope::AutocastScope(MixedPrecision precision, const at::Device& device) {
  if (precision == MixedPrecision::no) return;
  active_ = true;
  device_type_ = device.type();
  was_enabled_ = at::autocast::is_autocast_enabled(device_type_);
  was_dtype_ = at::autocast::get_autocast_dtype(device_type_);
  at::autocast::set_autocast_dtype(device_type_, at::kBFloat16);
  at::autocast::set_autocast_enabled(device_type_, true);
  at::autocast::increment_nesting();
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  // As torch.autocast's __exit__: the outermost scope frees the weights it cast.
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_autocast_enabled(device_type_, was_enabled_);
  at::autocast::set_autocast_dtype(device_type_, was_dtype_);
}

}  // namespace peft

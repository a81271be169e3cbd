// The CPU's features as /proc/cpuinfo gives them, which decide whether reduced precision on the CPU is worth it.
#include <catch2/catch.hpp>

#include "cpu_features.h"
#include "support/temp_folder.h"

CATCH_TEST_CASE("cpu_features reads the model and the AVX2, AVX-512, BF16 and AMX flags of /proc/cpuinfo") {
  peft::test::TempFolder folder;
  peft::test::write_text(folder / "cpuinfo",
                         "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\n"
                         "flags\t\t: fpu sse2 avx avx2 fma avx512f avx512bw avx512_bf16\n\n"
                         "processor\t: 1\nmodel name\t: other\nflags\t\t: fpu amx_bf16\n");
  const peft::CpuFeatures epyc = peft::cpu_features(folder / "cpuinfo");
  CATCH_CHECK(epyc.model == "AMD EPYC 7B13");
  CATCH_CHECK(epyc.avx2);
  CATCH_CHECK(epyc.avx512f);
  CATCH_CHECK(epyc.avx512_bf16);
  CATCH_CHECK(!epyc.amx_bf16);  // the first processor's flags only
  CATCH_CHECK(peft::cpu_features_text(epyc) == "AVX2 yes, AVX-512 yes, AVX512-BF16 yes, AMX-BF16 no");
  // "avx512" alone is no flag: whole words only.
  peft::test::write_text(folder / "avx2", "model name : Intel\nflags : avx2 avx512 avx512_bf16x\n");
  const peft::CpuFeatures avx2 = peft::cpu_features(folder / "avx2");
  CATCH_CHECK(avx2.model == "Intel");
  CATCH_CHECK(avx2.avx2);
  CATCH_CHECK(!avx2.avx512f);
  CATCH_CHECK(!avx2.avx512_bf16);
  const peft::CpuFeatures none = peft::cpu_features(folder / "missing");
  CATCH_CHECK(none.model.empty());
  CATCH_CHECK(!none.avx2);
}

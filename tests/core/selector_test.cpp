#include "selector.h"

#include <catch2/catch.hpp>

#include "peft/error.h"

using peft::select_sites;
using peft::SitePattern;

namespace {

// The sites of a 12-block ViT, in forward order.
std::vector<std::string> vit_sites() {
  std::vector<std::string> names;
  for (int block = 0; block < 12; ++block) {
    for (const char* layer : {"attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"}) {
      names.push_back("blocks." + std::to_string(block) + "." + layer);
    }
  }
  return names;
}

std::vector<std::string> blocks_of(const std::string& layer, std::initializer_list<int> blocks) {
  std::vector<std::string> names;
  for (int block : blocks) names.push_back("blocks." + std::to_string(block) + "." + layer);
  return names;
}

}  // namespace

CATCH_TEST_CASE("a plain pattern matches the whole name or a trailing run of its segments") {
  const auto pattern = SitePattern::parse("attn.proj");
  CATCH_CHECK(pattern.matches("attn.proj"));
  CATCH_CHECK(pattern.matches("blocks.3.attn.proj"));
  CATCH_CHECK_FALSE(pattern.matches("blocks.3.xattn.proj"));  // segment boundary, not a string suffix
  CATCH_CHECK_FALSE(pattern.matches("blocks.3.attn.proj.extra"));
  CATCH_CHECK_FALSE(pattern.matches("attn"));
  CATCH_CHECK(select_sites(vit_sites(), {"attn.proj"}).size() == 12);
}

CATCH_TEST_CASE("* matches exactly one segment and ** any number") {
  CATCH_CHECK(select_sites(vit_sites(), {"blocks.*.attn.proj"}) ==
              blocks_of("attn.proj", {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  CATCH_CHECK(select_sites(vit_sites(), {"*.fc1"}).empty() == false);
  CATCH_CHECK_FALSE(SitePattern::parse("blocks.*.proj").matches("blocks.3.attn.proj"));
  CATCH_CHECK(SitePattern::parse("blocks.**.proj").matches("blocks.3.attn.proj"));
  CATCH_CHECK(SitePattern::parse("**").matches("anything.at.all"));
  CATCH_CHECK(SitePattern::parse("blocks.**.attn.proj").matches("blocks.attn.proj"));  // ** may be empty
  CATCH_CHECK(select_sites(vit_sites(), {"**"}).size() == 48);
}

CATCH_TEST_CASE("index sets select blocks by range and by list") {
  CATCH_CHECK(select_sites(vit_sites(), {"blocks.[8-11].attn.proj"}) == blocks_of("attn.proj", {8, 9, 10, 11}));
  CATCH_CHECK(select_sites(vit_sites(), {"blocks.[0,2,4].mlp.fc1"}) == blocks_of("mlp.fc1", {0, 2, 4}));
  CATCH_CHECK(select_sites(vit_sites(), {"blocks.[0-1,11].mlp.fc2"}) == blocks_of("mlp.fc2", {0, 1, 11}));
  CATCH_CHECK_FALSE(SitePattern::parse("[3]").matches("x"));  // not an integer segment
  CATCH_CHECK(SitePattern::parse("layer.[5]").matches("layer.05"));
}

CATCH_TEST_CASE("malformed index sets are errors naming the pattern") {
  CATCH_CHECK_THROWS_WITH(SitePattern::parse("blocks.[3-1].attn"),
                          "[selector] bad pattern 'blocks.[3-1].attn': range '3-1' runs backwards (expected low-high)");
  CATCH_CHECK_THROWS_WITH(SitePattern::parse("blocks.[a-b].attn"),
                          Catch::Contains("index 'a' is not a non-negative integer"));
  CATCH_CHECK_THROWS_WITH(SitePattern::parse("blocks.[].attn"), Catch::Contains("index set '[]'"));
  CATCH_CHECK_THROWS_WITH(SitePattern::parse("blocks.[1,,2].attn"), Catch::Contains("index '' is not"));
  CATCH_CHECK_THROWS_WITH(SitePattern::parse("blocks.[1-"), Catch::Contains("is not [a-b] or [i,j,...]"));
  CATCH_CHECK_THROWS_WITH(SitePattern::parse("blocks.[-3].attn"), Catch::Contains("index '' is not"));
  CATCH_CHECK_THROWS_WITH(SitePattern::parse("mlp.fc*"), Catch::Contains("mixes text with '*'"));
  CATCH_CHECK_THROWS_WITH(SitePattern::parse("blocks..attn"), Catch::Contains("empty segment"));
  CATCH_CHECK_THROWS_WITH(SitePattern::parse(""), Catch::Contains("empty pattern"));
}

CATCH_TEST_CASE("re: patterns must match the whole name") {
  CATCH_CHECK(select_sites(vit_sites(), {R"(re:blocks\.(1|3)\.mlp\.fc\d)"}) ==
              std::vector<std::string>{"blocks.1.mlp.fc1", "blocks.1.mlp.fc2", "blocks.3.mlp.fc1", "blocks.3.mlp.fc2"});
  CATCH_CHECK_FALSE(SitePattern::parse("re:attn").matches("blocks.0.attn.proj"));
  CATCH_CHECK_THROWS_WITH(SitePattern::parse("re:blocks.(1"), Catch::Contains("invalid regular expression"));
  // 30,000 nested groups overflowed std::regex's recursive compiler; long patterns are refused first.
  const std::string deep = "re:" + std::string(30000, '(') + "a" + std::string(30000, ')');
  CATCH_CHECK_THROWS_WITH(SitePattern::parse(deep),
                          Catch::Contains("a regular expression of 60001 characters, expected at most 1000"));
}

CATCH_TEST_CASE("patterns that a backtracking matcher would search for minutes answer at once") {
  // A recipe found by fuzzing: hundreds of `**` before a last segment that fails split a 4-segment name every way
  // there is (C(404, 4) tries per trailing run) before the matcher ran segment by segment.
  std::string many_any;
  for (int i = 0; i < 400; ++i) many_any += "**.";
  CATCH_CHECK_FALSE(SitePattern::parse(many_any + "nope").matches("blocks.10.attn.proj"));
  CATCH_CHECK(SitePattern::parse(many_any + "proj").matches("blocks.10.attn.proj"));
  CATCH_CHECK(SitePattern::parse(many_any + "*.*.*.*").matches("blocks.10.attn.proj"));
  CATCH_CHECK_FALSE(SitePattern::parse(many_any + "*.*.*.*.*").matches("blocks.10.attn.proj"));
  // Nested repeats made std::regex backtrack exponentially in the name's length.
  CATCH_CHECK_FALSE(SitePattern::parse("re:(.*)*(.*)*(.*)*y").matches("blocks.10.attn.proj.x"));
  CATCH_CHECK(SitePattern::parse("re:(.*)*(.*)*(.*)*x").matches("blocks.10.attn.proj.x"));
  CATCH_CHECK(SitePattern::parse("re:(?!blocks\\.1\\.).*proj").matches("blocks.10.attn.proj"));
  CATCH_CHECK_FALSE(SitePattern::parse("re:(?!blocks\\.1).*proj").matches("blocks.10.attn.proj"));
#ifdef __GLIBCXX__
  // The polynomial matcher has no back-references; layer names have no use for them.
  CATCH_CHECK_THROWS_WITH(SitePattern::parse("re:(blocks)\\.\\1"),
                          Catch::Contains("bad pattern 're:(blocks)\\.\\1': invalid regular expression"));
#endif
}

CATCH_TEST_CASE("exclude is applied first and results keep the sites' order") {
  const auto selected = select_sites(vit_sites(), {"mlp.fc1", "attn.proj"}, {"blocks.[1-11].*.*"});
  CATCH_CHECK(selected == std::vector<std::string>{"blocks.0.attn.proj", "blocks.0.mlp.fc1"});
  CATCH_CHECK_THROWS_WITH(select_sites(vit_sites(), {"blocks.0.attn.proj"}, {"blocks.0.*.*"}),
                          "[selector] target 'blocks.0.attn.proj' matches only excluded sites");
}

CATCH_TEST_CASE("a pattern that matches nothing is an error listing the closest names") {
  CATCH_CHECK_THROWS_WITH(select_sites(vit_sites(), {"attn.proj", "blocks.0.atn.proj"}),
                          "[selector] target 'blocks.0.atn.proj' matches no site (closest: blocks.0.attn.proj, "
                          "blocks.1.attn.proj, blocks.2.attn.proj; see peft inspect)");
  CATCH_CHECK_THROWS_WITH(select_sites(vit_sites(), {"attn.proj"}, {"blocks.99.attn.proj"}),
                          Catch::StartsWith("[selector] exclude pattern 'blocks.99.attn.proj' matches no site"));
  CATCH_CHECK_THROWS_WITH(select_sites(vit_sites(), {}), Catch::Contains("targets is empty"));
  // A short pattern is compared with the names' tails of as many segments: "fc3" suggests the fc sites, not
  // whichever whole names happen to be short (head, norm).
  const std::vector<std::string> names{"head", "norm", "blocks.0.attn.qkv", "blocks.0.mlp.fc1", "blocks.0.mlp.fc2"};
  CATCH_CHECK_THROWS_WITH(select_sites(names, {"fc3"}),
                          Catch::Contains("(closest: blocks.0.mlp.fc1, blocks.0.mlp.fc2, blocks.0.attn.qkv;"));
}

#include <torch/cuda.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <set>

#include "cpu_features.h"
#include "distributed/communicator.h"
#include "distributed/process_groups.h"
#include "peft/build_tag.h"
#include "support/run_command.h"
#include "support/temp_folder.h"

namespace fs = std::filesystem;
using peft::test::run_command;
using peft::test::TempFolder;

namespace {

// Runs the built `peft` with `arguments`, with PEFT_PLUGIN_PATH set to `plugin_path`.
peft::test::CommandResult peft_cli(const std::string& arguments, const std::string& plugin_path = "") {
  return run_command("PEFT_PLUGIN_PATH='" + plugin_path + "' '" PEFT_EXECUTABLE "' " + arguments);
}

// A folder with the good fixture method and a plugin of the wrong API version.
void add_good_and_bad_plugins(const TempFolder& folder) {
  const fs::path fixtures = PEFT_FIXTURE_PLUGIN_DIR;
  fs::copy_file(fixtures / "libfixture_method.so", folder / "libfixture_method.so");
  fs::copy_file(fixtures / "libfixture_api_version.so", folder / "libfixture_api_version.so");
}

// The records of `json` (peft list --json) for files under `folder`: the built-in plugins are there too.
nlohmann::json records_under(const nlohmann::json& json, const fs::path& folder) {
  nlohmann::json records = nlohmann::json::array();
  for (const auto& record : json.at("plugins")) {
    if (record.at("path").get<std::string>().rfind(folder.string(), 0) == 0) records.push_back(record);
  }
  return records;
}

std::size_t count_lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

}  // namespace

CATCH_TEST_CASE("peft list shows loaded and rejected plugins with the reason, and exits 0") {
  TempFolder folder;
  add_good_and_bad_plugins(folder);
  const auto result = peft_cli("list", folder.path().string());
  CATCH_CHECK(result.exit_code == 0);
  CATCH_CHECK_THAT(result.out, Catch::Contains("KIND") && Catch::Contains("STATUS"));
  CATCH_CHECK(peft::test::has_line(result.out,
                                   R"(method +fixture_method +1\.0\.0 +[0-9]+ +loaded +\S*libfixture_method\.so.*)"));
  CATCH_CHECK_THAT(result.out, Catch::Contains("rejected") && Catch::Contains("libfixture_api_version.so"));
  CATCH_CHECK_THAT(result.out, Catch::Contains("reason: incompatible plugin API version (plugin 999, host " +
                                               std::to_string(PEFT_API_VERSION) + ")"));
  // The built-in plugins are listed too, so only the rejected count is known here.
  CATCH_CHECK(peft::test::has_line(result.out, "[0-9]+ loaded, 1 rejected"));
  CATCH_CHECK(peft::test::has_line(result.out, "searched: .*"));
  CATCH_CHECK_THAT(result.out, Catch::Contains(folder.path().string()));
}

CATCH_TEST_CASE("peft list --json gives every record with its status and the search path") {
  TempFolder folder;
  add_good_and_bad_plugins(folder);
  const auto result = peft_cli("list --json", folder.path().string());
  CATCH_REQUIRE(result.exit_code == 0);
  const auto json = nlohmann::json::parse(result.out);
  const auto records = records_under(json, folder.path());
  CATCH_REQUIRE(records.size() == 2);
  const auto& rejected = records[0];
  CATCH_CHECK(rejected["status"] == "rejected");
  CATCH_CHECK(rejected["api_version"] == 999);
  CATCH_CHECK(rejected["reason"] ==
              "incompatible plugin API version (plugin 999, host " + std::to_string(PEFT_API_VERSION) + ")");
  const auto& loaded = records[1];
  CATCH_CHECK(loaded["status"] == "loaded");
  CATCH_CHECK(loaded["kind"] == "method");
  CATCH_CHECK(loaded["name"] == "fixture_method");
  CATCH_CHECK(loaded["path"] == (folder / "libfixture_method.so").string());
  CATCH_CHECK_FALSE(loaded.contains("reason"));
  CATCH_CHECK(json["search_path"].back() == folder.path().string());
}

CATCH_TEST_CASE("peft --strict list fails with exit 1 and a one-line error naming the plugin") {
  TempFolder folder;
  add_good_and_bad_plugins(folder);
  for (const std::string arguments : {"--strict list", "list --strict"}) {
    const auto result = peft_cli(arguments, folder.path().string());
    CATCH_CHECK(result.exit_code == 1);
    CATCH_CHECK(result.out.empty());
    CATCH_CHECK(count_lines(result.err) == 1);
    CATCH_CHECK_THAT(result.err, Catch::StartsWith("peft: error: [loader] plugin rejected (--strict): ") &&
                                     Catch::Contains("libfixture_api_version.so: incompatible plugin API version"));
  }
}

CATCH_TEST_CASE("--plugin-path adds a folder, and a missing one is reported") {
  TempFolder folder;
  add_good_and_bad_plugins(folder);
  const auto result =
      peft_cli("--plugin-path '" + folder.path().string() + "' --plugin-path /no/such/folder list --json");
  CATCH_REQUIRE(result.exit_code == 0);
  const auto json = nlohmann::json::parse(result.out);
  CATCH_CHECK(records_under(json, folder.path()).size() == 2);
  const auto missing = records_under(json, "/no/such/folder");
  CATCH_REQUIRE(missing.size() == 1);
  CATCH_CHECK(missing[0]["reason"] == "plugin folder does not exist");
}

CATCH_TEST_CASE("peft -v list logs each folder searched and each plugin's fate to stderr") {
  TempFolder folder;
  add_good_and_bad_plugins(folder);
  peft::test::write_text(folder / "notes.txt", "not a plugin");
  const auto result = peft_cli("-v list --json", folder.path().string());
  CATCH_CHECK(result.exit_code == 0);
  CATCH_CHECK_NOTHROW(nlohmann::json::parse(result.out));  // logs never mix into stdout
  CATCH_CHECK_THAT(result.err, Catch::Contains("peft: debug: searching " + folder.path().string() + " for plugins"));
  CATCH_CHECK_THAT(result.err, Catch::Contains("loaded method 'fixture_method' 1.0.0 from "));
  CATCH_CHECK_THAT(result.err, Catch::Contains("libfixture_api_version.so: incompatible plugin API version"));
  CATCH_CHECK_THAT(result.err, Catch::Contains("notes.txt: not a .so file"));
  const auto quiet = peft_cli("list", folder.path().string());
  CATCH_CHECK(quiet.err.empty());
}

CATCH_TEST_CASE("peft version reports peft, the plugin API and LibTorch") {
  const auto text = peft_cli("version");
  CATCH_CHECK(text.exit_code == 0);
  CATCH_CHECK_THAT(
      text.out, Catch::StartsWith("peft " PEFT_SDK_VERSION " (plugin API " + std::to_string(PEFT_API_VERSION) + ")") &&
                    Catch::Contains("LibTorch " TORCH_VERSION));
  const auto json = peft_cli("version --json");
  CATCH_REQUIRE(json.exit_code == 0);
  const auto parsed = nlohmann::json::parse(json.out);
  CATCH_CHECK(parsed["peft"] == PEFT_SDK_VERSION);
  CATCH_CHECK(parsed["plugin_api"] == PEFT_API_VERSION);
  CATCH_CHECK(parsed["torch"] == TORCH_VERSION);
  // What the machine and the LibTorch can do: CUDA, its devices, and the CPU's vector and bf16 support.
  CATCH_CHECK(parsed["cuda_built_in"].is_boolean());
  CATCH_CHECK(parsed["cuda_devices"] == static_cast<int>(torch::cuda::device_count()));
  CATCH_CHECK(parsed["nccl"] == peft::nccl_built());
  CATCH_CHECK(parsed["process_groups"] == peft::process_groups_built());
  CATCH_CHECK_THAT(text.out, Catch::Contains(std::string(", NCCL ") + (peft::nccl_built() ? "yes" : "no")));
  const peft::CpuFeatures cpu = peft::cpu_features();
  CATCH_CHECK(parsed["cpu"]["avx2"] == cpu.avx2);
  CATCH_CHECK(parsed["cpu"]["avx512_bf16"] == cpu.avx512_bf16);
  CATCH_CHECK(parsed["cpu"]["model"] == cpu.model);
  CATCH_CHECK_THAT(text.out, Catch::Contains("CPU " + cpu.model + ": " + peft::cpu_features_text(cpu)) &&
                                 Catch::Contains(" CUDA device"));
}

CATCH_TEST_CASE("peft --help lists the subcommands; a bad command line is a one-line error with exit 1") {
  const auto help = peft_cli("--help");
  CATCH_CHECK(help.exit_code == 0);
  CATCH_CHECK_THAT(help.out, Catch::Contains("list") && Catch::Contains("version") && Catch::Contains("--strict"));

  for (const std::string arguments : {"frobnicate", "list --bogus", "--plugin-path"}) {
    const auto result = peft_cli(arguments);
    CATCH_CHECK(result.exit_code == 1);
    CATCH_CHECK(count_lines(result.err) == 1);
    CATCH_CHECK_THAT(result.err, Catch::StartsWith("peft: error: "));
  }
}

CATCH_TEST_CASE("peft list --options shows each plugin's declared recipe keys; --json always carries them") {
  const auto text = peft_cli("list --options");
  CATCH_REQUIRE(text.exit_code == 0);
  CATCH_CHECK_THAT(text.out, Catch::Contains("backbone 'vit' options ([backbone]):"));
  CATCH_CHECK(
      peft::test::has_line(text.out, R"(  global_pool +string +"token" +pooling before the head \(token \| avg\))"));
  CATCH_CHECK(peft::test::has_line(text.out, R"(  num_classes +integer +\(unset\) +head size.*)"));
  CATCH_CHECK(peft::test::has_line(text.out, R"(  drop_path +number +0 +stochastic depth.*\(also: drop_path_rate\))"));
  CATCH_CHECK_THAT(text.out, Catch::Contains("method 'gift' options ([method.options]):"));
  CATCH_CHECK_THAT(text.out, Catch::Contains("task 'image_classification' keys ([data]):"));
  // Every recipe key, not only the plugins': the top level, [data], [train], [output], [sweep].
  CATCH_CHECK(
      peft::test::has_line(text.out, R"(  num_classes +integer +\(unset\) +vtab1k classes.*largest label \+ 1\))"));
  CATCH_CHECK(peft::test::has_line(text.out, R"(  label_smoothing +number +0 +label smoothing in \[0, 1\))"));
  CATCH_CHECK(peft::test::has_line(text.out, R"(  threads +integer +0 +LibTorch intra-op threads.*)"));
  CATCH_CHECK(peft::test::has_line(text.out, R"(  grid +table +\(unset\) .*)"));

  const auto json = nlohmann::json::parse(peft_cli("list --json").out);
  const auto vit = std::find_if(json["plugins"].begin(), json["plugins"].end(),
                                [](const nlohmann::json& record) { return record["name"] == "vit"; });
  CATCH_REQUIRE(vit != json["plugins"].end());
  const auto& options = (*vit)["options"];
  CATCH_REQUIRE(options.size() == 18);
  CATCH_CHECK(options[0] == nlohmann::json({{"name", "variant"},
                                            {"type", "string"},
                                            {"default", nullptr},
                                            {"aliases", nlohmann::json::array()},
                                            {"doc", "named architecture, e.g. vit_base_patch16_224 (see README)"}}));
  CATCH_CHECK(options[9]["default"] == "true");  // qkv_bias
  CATCH_CHECK(options[17]["aliases"] == nlohmann::json::array({"drop_path_rate"}));
  CATCH_CHECK(json["recipe"]["data"][0]["name"] == "workers");
  CATCH_REQUIRE(json["tasks"].size() == 3);
  CATCH_CHECK(json["tasks"][0]["name"] == "image_classification");
  CATCH_CHECK(json["tasks"][0]["origin"] == "built in");
  CATCH_CHECK(json["tasks"][0]["data_keys"][4]["name"] == "num_classes");
  CATCH_CHECK(json["tasks"][1]["name"] == "causal_lm");
  CATCH_CHECK(json["tasks"][1]["origin"] == "built in");
  CATCH_CHECK(json["tasks"][1]["data_keys"][0]["name"] == "root");
  CATCH_CHECK(json["tasks"][2]["name"] == "text_classification");
  CATCH_CHECK(json["recipe"]["train"][0]["name"] == "epochs");
}

CATCH_TEST_CASE("peft test-plugin runs the contract suite on a plugin file, and names what it cannot test") {
  const fs::path fixtures = PEFT_FIXTURE_PLUGIN_DIR;
  // A plugin file that is also installed (its own registry: not a duplicate) passes on all three backbones.
  const auto good = peft_cli("test-plugin --json " + (fs::path(PEFT_BUILTIN_PLUGIN_DIR) / "libpeft_ia3.so").string());
  CATCH_REQUIRE(good.exit_code == 0);
  const auto report = nlohmann::json::parse(good.out);
  CATCH_CHECK(report["failed"] == 0);
  std::set<std::string> backbones;
  for (const auto& check : report["checks"]) backbones.insert(check["backbone"].get<std::string>());
  CATCH_CHECK(backbones == std::set<std::string>{"tiny vit", "mlp", "tiny lm"});
  // The loader's fixture method adapts sites but trains nothing of its own: on the LM, whose head stays frozen,
  // nothing would train, and the suite says so.
  const auto stub = peft_cli("test-plugin " + (fixtures / "libfixture_method.so").string());
  peft::test::check_user_error(stub,
                               "1 of 20 contract checks failed, first: fixture_method on the tiny lm: "
                               "attaches to every site");
  CATCH_CHECK_THAT(stub.out, Catch::Contains("FAIL  fixture_method on the tiny lm: attaches to every site: threw:") &&
                                 Catch::Contains("trains nothing here"));
  // One built-in method by name, with no path: the installed plugins.
  const auto lora = peft_cli("test-plugin --method lora");
  CATCH_CHECK(lora.exit_code == 0);
  CATCH_CHECK_THAT(lora.out, Catch::Contains("33 checks of 1 method on 3 backbones: 33 passed, 0 failed"));
  // What it cannot test is one line, exit 1.
  peft::test::check_user_error(peft_cli("test-plugin /no/such/plugin.so"),
                               "/no/such/plugin.so does not exist (expected a plugin file or a folder of them)");
  peft::test::check_user_error(peft_cli(std::string("test-plugin ") + PEFT_TEXT_PLUGIN_DIR + "/libtext_tiny_lm.so"),
                               "registers no method plugin");
  peft::test::check_user_error(peft_cli("test-plugin --method lorra"), "lorra");
  // Options other than the defaults, for one method; what the method does not take is the command's error.
  const auto linear = peft_cli("test-plugin --method gift --option schema=linear --option dim=4");
  CATCH_CHECK(linear.exit_code == 0);
  CATCH_CHECK_THAT(linear.out, Catch::Contains("ok    gift on the mlp: is made with the options given"));
  peft::test::check_user_error(peft_cli("test-plugin --method lora --option rank=2"),
                               "[options] --option: unknown key 'rank', expected one of: r,");
  peft::test::check_user_error(peft_cli("test-plugin --method lora --option r=0"),
                               "[options] --option: r = 0, expected an integer >= 1");
  peft::test::check_user_error(peft_cli("test-plugin --method lora --option 'r={a = 1}'"),
                               "[recipe] --option r: a table is not an option value");
  peft::test::check_user_error(peft_cli("test-plugin --method lora --option r"),
                               "[recipe] --option expects key=value, got 'r'");
  peft::test::check_user_error(peft_cli("test-plugin --option r=2"), "--option sets one method's options, but");
}

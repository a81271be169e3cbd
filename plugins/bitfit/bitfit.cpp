#include "bitfit.h"

#include <peft/error.h>
#include <peft/site.h>

namespace peft::bitfit {

void BitFit::attach(Backbone&, const std::vector<Site>& sites) {
  for (const auto& site : sites) {
    if (site->has_bias()) biases_.push_back({site->site_name() + ".bias", site->bias});
  }
  if (biases_.empty()) {
    throw Error("bitfit", "none of the " + std::to_string(sites.size()) +
                              " selected sites has a bias (hint: target sites built with a bias)");
  }
}

}  // namespace peft::bitfit

#include "peft/backbone.h"

#include <algorithm>

#include "peft/error.h"
#include "peft/strings.h"

namespace peft {

// Out of line so the vtables and type information live in the SDK library only, shared by every plugin.
Backbone::~Backbone() = default;
ImageInput::~ImageInput() = default;
ClassifierHead::~ClassifierHead() = default;
CausalLm::~CausalLm() = default;

std::vector<std::string> Backbone::role_patterns(SiteRole) const { return {}; }

std::vector<std::string> role_patterns(const Backbone& backbone, const std::vector<SiteRole>& roles) {
  std::vector<std::string> patterns;
  for (const SiteRole role : roles) {
    for (auto& pattern : backbone.role_patterns(role)) {
      if (std::find(patterns.begin(), patterns.end(), pattern) == patterns.end())
        patterns.push_back(std::move(pattern));
    }
  }
  return patterns;
}

ImageInput& require_image_input(Backbone& backbone, const std::string& component) {
  if (ImageInput* images = backbone.image_input()) return *images;
  throw Error(component, "needs a backbone that reads images, got backbone '" + backbone.name() + "', which reads " +
                             join(backbone.inputs(), ", "));
}

ClassifierHead& require_classifier(Backbone& backbone, const std::string& component) {
  if (ClassifierHead* head = backbone.classifier()) return *head;
  throw Error(component,
              "needs a backbone with a classification head, got backbone '" + backbone.name() + "' without one");
}

}  // namespace peft

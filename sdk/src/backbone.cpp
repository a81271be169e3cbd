#include "peft/backbone.h"

#include "peft/error.h"
#include "peft/strings.h"

namespace peft {

// Out of line so the vtables and type information live in the SDK library only, shared by every plugin.
Backbone::~Backbone() = default;
ImageInput::~ImageInput() = default;
ClassifierHead::~ClassifierHead() = default;
CausalLm::~CausalLm() = default;

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

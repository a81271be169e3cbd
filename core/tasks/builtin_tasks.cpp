#include "tasks/builtin_tasks.h"

#include "tasks/causal_lm.h"
#include "tasks/image_classification.h"
#include "tasks/text_classification.h"

namespace peft {

void register_builtin_tasks(Registry& registry) {
  register_image_classification(registry);
  register_causal_lm(registry);
  register_text_classification(registry);
}

}  // namespace peft

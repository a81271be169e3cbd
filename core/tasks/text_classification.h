#pragma once

#include "peft/registry.h"

namespace peft {

/// The name recipes give it: `task = "text_classification"`.
inline constexpr const char* kTextClassification = "text_classification";

/// Registers text_classification: `text` + `label` records (JSON Lines or a JSON array; labels integers or strings,
/// made contiguous ids by sorting the training split's distinct values), tokenised with the backbone's tokenizer; a
/// new classifier head over the last real token's hidden state (HF's LlamaForSequenceClassification), trained with
/// the method; cross-entropy, top-1 (primary) and loss.
void register_text_classification(Registry& registry);

}  // namespace peft

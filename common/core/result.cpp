#include "kitty/result.hpp"

namespace kitty {

Json Finding::to_json() const {
    Json j = {{"severity", severity}, {"code", code}, {"message", message}};
    j["path"] = path.empty() ? Json(nullptr) : Json(path);
    j["line"] = line > 0 ? Json(line) : Json(nullptr);
    return j;
}

Json error_document(const Error& error) {
    Json doc = {{"error", error.what()}, {"code", error.code()}, {"hint", error.hint()}};
    if (!error.path().empty()) {
        doc["path"] = error.path().string();
    }
    if (error.line() > 0) {
        doc["line"] = error.line();
    }
    if (error.details() != nullptr) {
        for (const auto& [key, value] : error.details()->items()) {
            doc[key] = value;
        }
    }
    return doc;
}

} // namespace kitty

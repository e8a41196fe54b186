// Fuzzes Accept-Language negotiation: the input is the header value, negotiated against a catalog of
// four locales. The answer must always be a locale the catalog supports (the fallback when nothing
// matches), and negotiating must never crash or throw, whatever the q-values say.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_check.hpp"
#include "platform/i18n/catalog.hpp"

namespace {

const pitwall::i18n::Catalog& catalog() {
    static const auto* instance = [] {
        auto loaded = pitwall::i18n::Catalog::from_json({
            {"en", R"({"app":{"name":"Pitwall"},"home":{"tagline":"Stints for the whole team"}})"},
            {"tr", R"({"app":{"name":"Pitwall"},"home":{"tagline":"Tüm takım için stintler"}})"},
            {"de", R"({"app":{"name":"Pitwall"}})"},
            {"pt", R"({"app":{"name":"Pitwall"}})"},
        });
        PITWALL_FUZZ_CHECK(loaded.ok());
        return new pitwall::i18n::Catalog(std::move(*loaded));
    }();
    return *instance;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view header(reinterpret_cast<const char*>(data), size);
    const auto& locales = catalog();
    std::string chosen = locales.negotiate(header);
    PITWALL_FUZZ_CHECK(locales.supports(chosen));
    // Whatever was chosen has the fallback's messages behind it.
    PITWALL_FUZZ_CHECK(locales.text(chosen, "app.name") == "Pitwall");
    return 0;
}

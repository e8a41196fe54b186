// Fuzzes what an OpenID provider (or anyone forging a callback) sends us: the first byte picks the
// parser — a compact JWS checked against a fixed JWK Set, a JWK Set document, or a discovery document.
// Every outcome must be a value: a verified token here would mean a forged signature was accepted.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/clock.hpp"
#include "fuzz_check.hpp"
#include "platform/auth/jwt.hpp"
#include "platform/auth/oidc_discovery.hpp"

namespace {

// A public RSA key (the private half is not anywhere): nothing the fuzzer makes can verify.
constexpr std::string_view kJwks =
    R"({"keys":[{"kty":"RSA","kid":"k1","alg":"RS256","use":"sig","e":"AQAB","n":"sXchDaQebHnPiGvyDOAT4saGEUetSyo9MKLOoWFsueri23bOdgWp4Dy1WlUzewbgBHod5pcM9H95GQRV3JDXboIRROSBigeC5yjU1hGzHHyXss8UDprecbAYxknTcQkhslANGRUZmdTOQ5qTRsLAt6BTYuyvVRdhS8exSZEy_c4gs_7svlJJQ4H9_NxsiIoLwAEk7-Q3UXERGYw_75IDrGA84-lA_-Ct4eTlXHBIY2EaV7t7LjJaynVJCpkv4LKjTTAumiGUIuQhrNhZLuF_RJLqHpM2kgWFLU7-VTdL1VbC2tejvcI2BlMkEpk1BzBZI0KQB0GaDWFLN-aEAw3vRw"}]})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    static const auto keys = pitwall::auth::JwkSet::parse(kJwks);
    PITWALL_FUZZ_CHECK(keys.ok());
    static const pitwall::ManualClock clock(1'700'000'000'000);
    switch (data[0] % 3) {
        case 0: {
            auto token = pitwall::auth::verify_id_token(
                input, *keys, {.issuer = "https://issuer.example", .client_id = "pitwall", .nonce = "n"},
                clock);
            PITWALL_FUZZ_CHECK(!token.ok());
            PITWALL_FUZZ_CHECK(token.error().code.starts_with("oidc."));
            break;
        }
        case 1: {
            auto set = pitwall::auth::JwkSet::parse(input);
            (void)set;
            break;
        }
        default: {
            auto metadata = pitwall::auth::parse_provider_metadata(input, "https://issuer.example");
            if (metadata) PITWALL_FUZZ_CHECK(metadata->issuer == "https://issuer.example");
            break;
        }
    }
    return 0;
}

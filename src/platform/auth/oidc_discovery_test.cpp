#include "platform/auth/oidc_discovery.hpp"

#include <boost/json.hpp>
#include <gtest/gtest.h>

namespace pitwall::auth {
namespace {

namespace json = boost::json;

const std::string issuer = "https://garage61.net";

json::object document() {
    return {
        {"issuer", issuer},
        {"authorization_endpoint", "https://garage61.net/app/account/oauth"},
        {"token_endpoint", "https://garage61.net/api/oauth/token"},
        {"userinfo_endpoint", "https://garage61.net/api/oauth/userinfo"},
        {"jwks_uri", "https://garage61.net/api/oauth/jwks"},
        {"response_types_supported", json::array{"code"}},
        {"subject_types_supported", json::array{"public"}},
        {"id_token_signing_alg_values_supported", json::array{"RS256", "ES256", "PS256"}},
        {"code_challenge_methods_supported", json::array{"S256"}},
        {"scopes_supported", json::array{"openid", "profile", "email", "driving_data"}},
    };
}

Result<ProviderMetadata> parse(const json::object& doc, std::string_view expected = issuer) {
    return parse_provider_metadata(json::serialize(doc), expected);
}

std::string field_of(const Result<ProviderMetadata>& r) {
    return r.ok() ? "ok" : r.error().code + ":" + r.error().arg("field");
}

TEST(OidcDiscovery, BuildsTheWellKnownUrl) {
    EXPECT_EQ(discovery_url("https://garage61.net"), "https://garage61.net/.well-known/openid-configuration");
    EXPECT_EQ(discovery_url("https://garage61.net/"),
              "https://garage61.net/.well-known/openid-configuration");
    EXPECT_EQ(discovery_url("https://id.example/tenant"),
              "https://id.example/tenant/.well-known/openid-configuration");
}

TEST(OidcDiscovery, ParsesAProviderDocument) {
    auto m = parse(document());
    ASSERT_TRUE(m.ok()) << m.error().code << " " << m.error().detail;
    EXPECT_EQ(m->issuer, issuer);
    EXPECT_EQ(m->authorization_endpoint, "https://garage61.net/app/account/oauth");
    EXPECT_EQ(m->token_endpoint, "https://garage61.net/api/oauth/token");
    EXPECT_EQ(m->userinfo_endpoint, "https://garage61.net/api/oauth/userinfo");
    EXPECT_EQ(m->jwks_uri, "https://garage61.net/api/oauth/jwks");
    EXPECT_EQ(m->id_token_signing_alg_values_supported,
              (std::vector<std::string>{"RS256", "ES256", "PS256"}));
    EXPECT_EQ(m->verifiable_algorithms(),
              (std::vector<JwsAlgorithm>{JwsAlgorithm::rs256, JwsAlgorithm::es256}));
    EXPECT_EQ(m->code_challenge_methods_supported, std::vector<std::string>{"S256"});
}

TEST(OidcDiscovery, AcceptsOptionalMembersMissingAndLoopbackHttp) {
    auto doc = document();
    doc.erase("userinfo_endpoint");
    doc.erase("code_challenge_methods_supported");
    auto m = parse(doc);
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->userinfo_endpoint, "");
    EXPECT_TRUE(m->code_challenge_methods_supported.empty());

    // A local test peer (npm oidc-provider) on plain http.
    for (const std::string local : {"http://127.0.0.1:4000", "http://localhost:4000", "http://[::1]:4000"}) {
        json::object d = document();
        d["issuer"] = local;
        d["authorization_endpoint"] = local + "/auth";
        d["token_endpoint"] = local + "/token";
        d["jwks_uri"] = local + "/jwks";
        d["userinfo_endpoint"] = local + "/me";
        EXPECT_EQ(field_of(parse(d, local)), "ok") << local;
    }
}

TEST(OidcDiscovery, RequiresTheConfiguredIssuerExactly) {
    for (const std::string other :
         {"https://garage61.net/", "https://GARAGE61.net", "https://evil.example", "http://garage61.net"}) {
        auto d = document();
        d["issuer"] = other;
        auto r = parse(d);
        ASSERT_FALSE(r.ok()) << other;
        EXPECT_EQ(r.error().code, "oidc.issuer_mismatch");
        EXPECT_EQ(r.error().arg("issuer"), issuer);
        EXPECT_EQ(r.error().kind, ErrorKind::unavailable);
    }
    auto d = document();
    d.erase("issuer");
    EXPECT_EQ(field_of(parse(d)), "oidc.bad_discovery:issuer");
    d["issuer"] = 7;
    EXPECT_EQ(field_of(parse(d)), "oidc.bad_discovery:issuer");
    // The issuer matches the configuration but is not a usable issuer URL.
    auto q = document();
    q["issuer"] = "https://garage61.net?tenant=1";
    EXPECT_EQ(field_of(parse(q, "https://garage61.net?tenant=1")), "oidc.bad_discovery:issuer");
    q["issuer"] = "http://garage61.net";
    EXPECT_EQ(field_of(parse(q, "http://garage61.net")), "oidc.bad_discovery:issuer");
}

TEST(OidcDiscovery, RequiresTheEndpoints) {
    for (const char* field :
         {"authorization_endpoint", "token_endpoint", "jwks_uri", "id_token_signing_alg_values_supported"}) {
        auto d = document();
        d.erase(field);
        EXPECT_EQ(field_of(parse(d)), std::string("oidc.bad_discovery:") + field);
    }
}

TEST(OidcDiscovery, RefusesEndpointsThatAreNotAbsoluteHttpsUrls) {
    for (const char* field : {"authorization_endpoint", "token_endpoint", "jwks_uri", "userinfo_endpoint"}) {
        for (const json::value& bad :
             {json::value("/api/oauth/token"), json::value("garage61.net/token"),
              json::value("javascript:alert(1)"), json::value("ftp://garage61.net/x"),
              json::value("file:///etc/passwd"), json::value("https://"),
              json::value("https://garage61.net/token#frag"),
              json::value("https://user:pass@garage61.net/token"), json::value("http://garage61.net/token"),
              json::value("http://10.0.0.1/token"), json::value("https://garage61.net/to ken"),
              json::value(""), json::value(42), json::value(nullptr), json::value(json::array{})}) {
            auto d = document();
            d[field] = bad;
            EXPECT_EQ(field_of(parse(d)), std::string("oidc.bad_discovery:") + field)
                << field << " = " << bad;
        }
    }
    // Queries are fine on endpoints.
    auto d = document();
    d["authorization_endpoint"] = "https://garage61.net/app/account/oauth?ui=compact";
    EXPECT_EQ(field_of(parse(d)), "ok");
}

TEST(OidcDiscovery, RequiresAnAlgorithmWeCanVerify) {
    for (const json::value& algs : {json::value(json::array{"HS256"}), json::value(json::array{"none"}),
                                    json::value(json::array{}), json::value(json::array{"RS256", 5}),
                                    json::value("RS256"), json::value(json::array{"PS256", "EdDSA"})}) {
        auto d = document();
        d["id_token_signing_alg_values_supported"] = algs;
        EXPECT_EQ(field_of(parse(d)), "oidc.bad_discovery:id_token_signing_alg_values_supported") << algs;
    }
    auto d = document();
    d["code_challenge_methods_supported"] = "S256";
    EXPECT_EQ(field_of(parse(d)), "oidc.bad_discovery:code_challenge_methods_supported");
}

TEST(OidcDiscovery, RefusesDocumentsThatAreNotJsonObjects) {
    for (const std::string& text :
         {std::string(), std::string("null"), std::string("[]"), std::string("<html>"),
          std::string("{\"issuer\":"), std::string(max_discovery_bytes + 1, ' ')}) {
        EXPECT_EQ(field_of(parse_provider_metadata(text, issuer)), "oidc.bad_discovery:document")
            << text.substr(0, 20);
    }
    // A large but legal document is fine.
    auto d = document();
    d["padding"] = std::string(max_discovery_bytes / 2, 'p');
    EXPECT_EQ(field_of(parse(d)), "ok");
}

}  // namespace
}  // namespace pitwall::auth

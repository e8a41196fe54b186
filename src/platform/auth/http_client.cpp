#include "platform/auth/http_client.hpp"

#include <algorithm>
#include <array>
#include <cstdlib>
#include <mutex>

#include <curl/curl.h>

#include "core/version.hpp"

namespace pitwall::auth {

namespace {

void init_curl_once() {
    static std::once_flag once;
    std::call_once(once, [] {
        // Without it libcurl cannot make a single request; no point in limping on.
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) std::abort();
    });
}

char ascii_lower(char c) {
    return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(), ascii_lower);
    return out;
}

bool is_token_char(char c) {
    // RFC 9110 tchar
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_valid_header(std::string_view name, std::string_view value) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_char)) return false;
    return value.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

constexpr std::array<std::string_view, 6> methods = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"};

std::string_view trim_ows(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

// The parts of a URL we need before sending: its scheme (http/https only) and host (for errors).
struct UrlParts {
    std::string scheme;
    std::string host;
};

std::optional<UrlParts> inspect_url(const std::string& url) {
    CURLU* u = curl_url();
    if (u == nullptr) return std::nullopt;
    std::optional<UrlParts> parts;
    char* scheme = nullptr;
    char* host = nullptr;
    if (curl_url_set(u, CURLUPART_URL, url.c_str(), 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
        parts = UrlParts{lower(scheme), host};
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return parts;
}

// Per-request state the curl callbacks write into.
struct Transfer {
    const HttpClientOptions* options = nullptr;
    ClientResponse response;
    std::size_t header_bytes = 0;
    bool too_large = false;
};

std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    if (t->response.body.size() + n > t->options->max_response_bytes) {
        t->too_large = true;
        return 0;  // a short count aborts the transfer (CURLE_WRITE_ERROR)
    }
    t->response.body.append(data, n);
    return n;
}

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    const std::size_t n = size * count;
    t->header_bytes += n;
    if (t->header_bytes > t->options->max_header_bytes) {
        t->too_large = true;
        return 0;
    }
    std::string_view line(data, n);
    if (line.starts_with("HTTP/")) {
        // A new response starts (after a redirect, a 100 Continue or a proxy CONNECT): only the
        // final response's headers are reported.
        t->response.headers.clear();
        return n;
    }
    if (!line.empty() && (line.front() == ' ' || line.front() == '\t')) {
        // obs-fold (RFC 9112 5.2): a continuation of the previous header's value.
        if (!t->response.headers.empty()) {
            auto folded = trim_ows(line);
            if (!folded.empty()) t->response.headers.back().second.append(" ").append(folded);
        }
        return n;
    }
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return n;  // the blank line, or junk we ignore
    t->response.headers.emplace_back(lower(line.substr(0, colon)),
                                     std::string(trim_ows(line.substr(colon + 1))));
    return n;
}

struct SlistFree {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

}  // namespace

struct HttpClient::Impl {
    HttpClientOptions options;
    std::string user_agent;
    std::string no_proxy;
    CURLSH* share = nullptr;
    std::array<std::mutex, CURL_LOCK_DATA_LAST> share_locks;
    std::mutex pool_mutex;
    std::vector<CURL*> idle;

    explicit Impl(HttpClientOptions o) : options(std::move(o)) {
        options.max_redirects = std::clamp(options.max_redirects, 0, 3);
        user_agent =
            options.user_agent.empty() ? std::string("pitwall/") + pitwall::version : options.user_agent;

        // CURLOPT_NOPROXY replaces the no_proxy variable, so keep what the environment says and add loopback.
        const char* env = std::getenv("no_proxy");
        if (env == nullptr || *env == '\0') env = std::getenv("NO_PROXY");
        no_proxy = env != nullptr ? env : "";
        if (no_proxy != "*") no_proxy += std::string(no_proxy.empty() ? "" : ",") + "localhost,127.0.0.1,::1";

        share = curl_share_init();
        if (share != nullptr) {
            curl_share_setopt(share, CURLSHOPT_LOCKFUNC, &Impl::lock);
            curl_share_setopt(share, CURLSHOPT_UNLOCKFUNC, &Impl::unlock);
            curl_share_setopt(share, CURLSHOPT_USERDATA, this);
            curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
            curl_share_setopt(share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION);
        }
    }

    ~Impl() {
        // Easy handles first: a share cannot be cleaned up while handles still use it.
        for (CURL* h : idle) curl_easy_cleanup(h);
        if (share != nullptr) curl_share_cleanup(share);
    }

    static void lock(CURL*, curl_lock_data data, curl_lock_access, void* user) {
        static_cast<Impl*>(user)->share_locks[static_cast<std::size_t>(data)].lock();
    }
    static void unlock(CURL*, curl_lock_data data, void* user) {
        static_cast<Impl*>(user)->share_locks[static_cast<std::size_t>(data)].unlock();
    }

    CURL* acquire() {
        {
            std::lock_guard lock(pool_mutex);
            if (!idle.empty()) {
                CURL* h = idle.back();
                idle.pop_back();
                return h;
            }
        }
        return curl_easy_init();
    }

    void release(CURL* h) {
        {
            std::lock_guard lock(pool_mutex);
            if (idle.size() < options.max_idle_handles) {
                idle.push_back(h);
                return;
            }
        }
        curl_easy_cleanup(h);
    }
};

HttpClient::HttpClient(HttpClientOptions options) {
    init_curl_once();
    impl_ = std::make_unique<Impl>(std::move(options));
}

HttpClient::~HttpClient() = default;

const HttpClientOptions& HttpClient::options() const {
    return impl_->options;
}

std::optional<std::string_view> ClientResponse::header(std::string_view name) const {
    const std::string wanted = lower(name);
    for (const auto& [k, v] : headers)
        if (k == wanted) return std::string_view(v);
    return std::nullopt;
}

Result<ClientResponse> HttpClient::request(const ClientRequest& req) const {
    const HttpClientOptions& opt = impl_->options;
    if (std::find(methods.begin(), methods.end(), req.method) == methods.end())
        return Error(ErrorKind::invalid_input, "http_client.bad_request", {}, "unsupported method");
    auto url = inspect_url(req.url);
    if (!url || (url->scheme != "http" && url->scheme != "https"))
        return Error(ErrorKind::invalid_input, "http_client.bad_request", {}, "not an absolute http(s) URL");
    const std::vector<std::pair<std::string, std::string>> args{{"host", url->host}};

    std::unique_ptr<curl_slist, SlistFree> headers;
    auto add_header = [&](const std::string& line) {
        curl_slist* next = curl_slist_append(headers.get(), line.c_str());
        if (next == nullptr) return false;
        static_cast<void>(headers.release());
        headers.reset(next);
        return true;
    };
    for (const auto& [name, value] : req.headers) {
        if (!is_valid_header(name, value))
            return Error(ErrorKind::invalid_input, "http_client.bad_request", {},
                         "header with a character HTTP does not allow");
        // "Name;" is curl's spelling of a header with an empty value ("Name:" would remove it).
        if (!add_header(value.empty() ? name + ";" : name + ": " + value))
            return Error(ErrorKind::unavailable, "http_client.failed", args, "out of memory");
    }
    // No "Expect: 100-continue" round trip before bodies: our peers answer at once.
    if (!add_header("Expect:"))
        return Error(ErrorKind::unavailable, "http_client.failed", args, "out of memory");

    CURL* h = impl_->acquire();
    if (h == nullptr)
        return Error(ErrorKind::unavailable, "http_client.failed", args, "curl_easy_init failed");
    curl_easy_reset(h);  // keeps the handle's idle connections; clears every option of the last request

    Transfer t;
    t.options = &opt;
    char error_text[CURL_ERROR_SIZE] = {};
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_text);
    curl_easy_setopt(h, CURLOPT_URL, req.url.c_str());
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // signals and threads do not mix
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(opt.connect_timeout.count()));
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(opt.total_timeout.count()));
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    if (!opt.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, opt.ca_file.c_str());
    curl_easy_setopt(h, CURLOPT_USERAGENT, impl_->user_agent.c_str());
    curl_easy_setopt(h, CURLOPT_NOPROXY, impl_->no_proxy.c_str());
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, opt.follow_redirects ? 1L : 0L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, static_cast<long>(opt.max_redirects));
    if (impl_->share != nullptr) curl_easy_setopt(h, CURLOPT_SHARE, impl_->share);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);

    if (req.method == "HEAD") {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        // Refuses a declared Content-Length above the limit before any body byte arrives.
        curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(opt.max_response_bytes));
        if (req.method == "GET") {
            curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
        } else {
            if (req.method != "POST") curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, req.method.c_str());
            if (req.method == "POST" || !req.body.empty()) {
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(req.body.size()));
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, req.body.data());
            }
        }
    }

    const CURLcode rc = curl_easy_perform(h);
    long status = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    // The handle goes back to the pool without pointers into this frame.
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
    impl_->release(h);

    const std::string detail = std::string(curl_easy_strerror(rc)) + (error_text[0] ? ": " : "") + error_text;
    switch (rc) {
        case CURLE_OK:
            break;
        case CURLE_OPERATION_TIMEDOUT:
            return Error(ErrorKind::unavailable, "http_client.timeout", args, detail);
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_COULDNT_RESOLVE_PROXY:
        case CURLE_COULDNT_CONNECT:
            return Error(ErrorKind::unavailable, "http_client.unreachable", args, detail);
        case CURLE_FILESIZE_EXCEEDED:
            return Error(ErrorKind::unavailable, "http_client.too_large", args, detail);
        case CURLE_WRITE_ERROR:
            if (t.too_large) return Error(ErrorKind::unavailable, "http_client.too_large", args, detail);
            return Error(ErrorKind::unavailable, "http_client.failed", args, detail);
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CIPHER:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_SSL_ISSUER_ERROR:
        case CURLE_SSL_INVALIDCERTSTATUS:
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
        case CURLE_SSL_CRL_BADFILE:
        case CURLE_SSL_ENGINE_INITFAILED:
        case CURLE_SSL_ENGINE_NOTFOUND:
        case CURLE_SSL_ENGINE_SETFAILED:
        case CURLE_SSL_CLIENTCERT:
        case CURLE_USE_SSL_FAILED:
            return Error(ErrorKind::unavailable, "http_client.tls", args, detail);
        case CURLE_URL_MALFORMAT:
        case CURLE_UNSUPPORTED_PROTOCOL:
            return Error(ErrorKind::invalid_input, "http_client.bad_request", {}, detail);
        default:
            return Error(ErrorKind::unavailable, "http_client.failed", args, detail);
    }
    t.response.status = static_cast<int>(status);
    return std::move(t.response);
}

std::string url_encode(std::string_view text) {
    static constexpr char hex[] = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size() * 3);
    for (unsigned char c : text) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
            c == '.' || c == '_' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out.push_back('%');
            out.push_back(hex[c >> 4]);
            out.push_back(hex[c & 0xf]);
        }
    }
    return out;
}

std::string form_encode(const std::vector<std::pair<std::string, std::string>>& fields) {
    std::string out;
    for (const auto& [name, value] : fields) {
        if (!out.empty()) out.push_back('&');
        out += url_encode(name);
        out.push_back('=');
        out += url_encode(value);
    }
    return out;
}

}  // namespace pitwall::auth

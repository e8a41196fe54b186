#include "platform/i18n/catalog.hpp"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include <boost/json.hpp>
#include <unicode/datefmt.h>
#include <unicode/locid.h>
#include <unicode/messagepattern.h>
#include <unicode/msgfmt.h>
#include <unicode/smpdtfmt.h>
#include <unicode/timezone.h>
#include <unicode/unistr.h>

#include "core/log.hpp"

namespace pitwall::i18n {

// How a pattern uses an argument decides how a value is handed to ICU (see Arg).
enum class Usage { plain, numeric, select, date_only };

enum class DateKind { date, time };

// One `{name, date|time, style}` of a pattern. ICU creates the date formats of a MessageFormat in the
// process's default time zone and offers no way to reach the ones nested in plural/select branches,
// so the compiled pattern has each of them replaced by a plain argument `{pw_dtN}` that text()
// fills with a date formatted by our own (per-thread, per-zone) DateFormat.
struct DateSlot {
    std::string slot;  // pw_dtN
    std::string argument;
    DateKind kind = DateKind::date;
    std::string style;  // as written: "", short, medium, long, full, ::skeleton or a pattern
};

struct CompiledMessage {
    std::uint64_t id = 0;  // unique for the process: the key of the per-thread caches
    std::string locale;
    std::string pattern;  // as written
    bool compiled = false;
    icu::UnicodeString runtime_pattern;  // the pattern with date/time arguments replaced by slots
    std::vector<DateSlot> date_slots;
    std::map<std::string, Usage, std::less<>> usage;
    mutable std::atomic<bool> failure_logged{false};
};

namespace {

std::atomic<std::uint64_t> next_message_id{1};

std::string to_utf8(const icu::UnicodeString& text) {
    std::string out;
    text.toUTF8String(out);
    return out;
}

icu::UnicodeString from_utf8(std::string_view text) {
    return icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

std::string trimmed_lower(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return ascii_lower(s);
}

void flatten(const boost::json::object& object, const std::string& prefix,
             std::map<std::string, std::string, std::less<>>& out) {
    for (const auto& [k, v] : object) {
        std::string key = prefix.empty() ? std::string(k) : prefix + "." + std::string(k);
        if (v.is_object())
            flatten(v.get_object(), key, out);
        else if (v.is_string())
            out[key] = std::string(v.get_string());
    }
}

// ---------------------------------------------------------------------------------------------
// Compiling

Usage usage_of_simple_type(std::string_view type) {
    const std::string t = trimmed_lower(type);
    if (t == "date" || t == "time") return Usage::date_only;
    return Usage::numeric;  // number, spellout, ordinal, duration (anything else fails to compile)
}

void note_usage(CompiledMessage& message, const std::string& name, Usage usage) {
    auto [it, inserted] = message.usage.try_emplace(name, usage);
    if (inserted || it->second == usage) return;
    // Used in two ways: plain text wins over date-only (the ICU argument remains), numeric and
    // select keep what ICU needs for the branch.
    if (it->second == Usage::date_only) it->second = usage;
}

std::string describe_failure(UErrorCode status, const UParseError& where) {
    std::string out = u_errorName(status);
    if (where.offset > 0) out += " at offset " + std::to_string(where.offset);
    return out;
}

std::shared_ptr<CompiledMessage> compile(std::string_view locale, std::string_view pattern,
                                         std::string* failure) {
    auto message = std::make_shared<CompiledMessage>();
    message->id = next_message_id.fetch_add(1, std::memory_order_relaxed);
    message->locale = std::string(locale);
    message->pattern = std::string(pattern);

    const icu::UnicodeString source = from_utf8(pattern);
    const icu::Locale icu_locale(message->locale.c_str());
    UParseError where{};
    UErrorCode status = U_ZERO_ERROR;
    // Compiling the pattern as written validates everything, date styles included.
    icu::MessageFormat check(source, icu_locale, where, status);
    if (U_FAILURE(status)) {
        if (failure) *failure = describe_failure(status, where);
        return message;
    }
    status = U_ZERO_ERROR;
    icu::MessagePattern parsed(source, &where, status);
    if (U_FAILURE(status)) {
        if (failure) *failure = describe_failure(status, where);
        return message;
    }

    // Record how each argument is used; collect date/time arguments to replace by slots.
    struct Span {
        int32_t start, limit;
        std::string slot;
    };
    std::vector<Span> spans;
    const int32_t parts = parsed.countParts();
    for (int32_t i = 0; i < parts; ++i) {
        const auto& part = parsed.getPart(i);
        if (part.getType() != UMSGPAT_PART_TYPE_ARG_START) continue;
        const std::string name = to_utf8(parsed.getSubstring(parsed.getPart(i + 1)));
        switch (part.getArgType()) {
            case UMSGPAT_ARG_TYPE_NONE:
                note_usage(*message, name, Usage::plain);
                break;
            case UMSGPAT_ARG_TYPE_SELECT:
                note_usage(*message, name, Usage::select);
                break;
            case UMSGPAT_ARG_TYPE_SIMPLE: {
                const std::string type = to_utf8(parsed.getSubstring(parsed.getPart(i + 2)));
                const Usage usage = usage_of_simple_type(type);
                note_usage(*message, name, usage);
                if (usage != Usage::date_only) break;
                const int32_t limit = parsed.getLimitPartIndex(i);
                std::string style;
                if (i + 3 < limit && parsed.getPart(i + 3).getType() == UMSGPAT_PART_TYPE_ARG_STYLE)
                    style = to_utf8(parsed.getSubstring(parsed.getPart(i + 3)));
                DateSlot slot{.slot = "pw_dt" + std::to_string(message->date_slots.size()),
                              .argument = name,
                              .kind = trimmed_lower(type) == "time" ? DateKind::time : DateKind::date,
                              .style = style};
                spans.push_back({part.getIndex(), parsed.getPart(limit).getLimit(), slot.slot});
                message->date_slots.push_back(std::move(slot));
                break;
            }
            default:  // plural, selectordinal, choice
                note_usage(*message, name, Usage::numeric);
        }
    }
    icu::UnicodeString runtime;
    int32_t copied = 0;
    for (const auto& span : spans) {
        runtime.append(source, copied, span.start - copied);
        runtime.append(u'{').append(from_utf8(span.slot)).append(u'}');
        copied = span.limit;
    }
    runtime.append(source, copied, source.length() - copied);

    status = U_ZERO_ERROR;
    icu::MessageFormat runtime_check(runtime, icu_locale, where, status);
    if (U_FAILURE(status)) {
        if (failure) *failure = "date arguments: " + describe_failure(status, where);
        return message;
    }
    message->runtime_pattern = std::move(runtime);
    message->compiled = true;
    return message;
}

// ---------------------------------------------------------------------------------------------
// Per-thread ICU objects. A MessageFormat or DateFormat must not format on two threads at once
// (lazily created sub-formats, a mutable Calendar), and cloning one costs ten times formatting
// with it, so each worker thread keeps its own, created on first use. Bounded: cleared when full.

constexpr std::size_t kMaxThreadFormats = 4096;
constexpr std::size_t kMaxThreadDateFormats = 512;

struct ThreadFormats {
    std::unordered_map<std::uint64_t, std::unique_ptr<icu::MessageFormat>> messages;
    std::unordered_map<std::string, std::unique_ptr<icu::DateFormat>> dates;
};

ThreadFormats& thread_formats() {
    thread_local ThreadFormats formats;
    return formats;
}

// nullptr if ICU cannot build it (compile() validated the pattern, so: out of memory).
icu::MessageFormat* message_format(const CompiledMessage& message, bool cache) {
    auto& formats = thread_formats();
    if (cache) {
        if (auto it = formats.messages.find(message.id); it != formats.messages.end())
            return it->second.get();
    }
    UParseError where{};
    UErrorCode status = U_ZERO_ERROR;
    auto format = std::make_unique<icu::MessageFormat>(message.runtime_pattern,
                                                       icu::Locale(message.locale.c_str()), where, status);
    if (U_FAILURE(status)) return nullptr;
    if (!cache) {
        // An uncached format lives until the next uncached one on this thread.
        thread_local std::unique_ptr<icu::MessageFormat> scratch;
        scratch = std::move(format);
        return scratch.get();
    }
    if (formats.messages.size() >= kMaxThreadFormats) formats.messages.clear();
    return formats.messages.emplace(message.id, std::move(format)).first->second.get();
}

icu::DateFormat::EStyle date_style(const std::string& style) {
    const std::string s = trimmed_lower(style);
    if (s == "short") return icu::DateFormat::kShort;
    if (s == "long") return icu::DateFormat::kLong;
    if (s == "full") return icu::DateFormat::kFull;
    return icu::DateFormat::kMedium;  // "" and "medium"
}

std::unique_ptr<icu::TimeZone> time_zone_or_utc(std::string_view name) {
    std::unique_ptr<icu::TimeZone> zone(icu::TimeZone::createTimeZone(from_utf8(name)));
    if (!zone || *zone == icu::TimeZone::getUnknown()) zone.reset(icu::TimeZone::createTimeZone("UTC"));
    return zone;
}

// kind/style as in DateSlot; `plain` asks for a short date and time (a DateTime given to `{name}`).
icu::DateFormat* date_format(const std::string& locale, DateKind kind, const std::string& style, bool plain,
                             std::string_view time_zone) {
    if (time_zone.size() > 64) time_zone = "UTC";  // no IANA name is that long; keeps cache keys small
    auto& formats = thread_formats();
    std::string key = locale;
    key.append(1, '\n').append(plain ? "plain" : kind == DateKind::date ? "date" : "time");
    key.append(1, '\n').append(style).append(1, '\n').append(time_zone);
    if (auto it = formats.dates.find(key); it != formats.dates.end()) return it->second.get();

    const icu::Locale icu_locale(locale.c_str());
    std::unique_ptr<icu::DateFormat> format;
    const std::string s = trimmed_lower(style);
    UErrorCode status = U_ZERO_ERROR;
    if (plain) {
        format.reset(icu::DateFormat::createDateTimeInstance(icu::DateFormat::kShort, icu::DateFormat::kShort,
                                                             icu_locale));
    } else if (s.starts_with("::")) {
        std::string_view skeleton(style);
        skeleton.remove_prefix(skeleton.find("::") + 2);
        format.reset(icu::DateFormat::createInstanceForSkeleton(from_utf8(skeleton), icu_locale, status));
    } else if (s.empty() || s == "short" || s == "medium" || s == "long" || s == "full") {
        format.reset(kind == DateKind::date
                         ? icu::DateFormat::createDateInstance(date_style(style), icu_locale)
                         : icu::DateFormat::createTimeInstance(date_style(style), icu_locale));
    } else {
        format = std::make_unique<icu::SimpleDateFormat>(from_utf8(style), icu_locale, status);
    }
    if (U_FAILURE(status) || !format) return nullptr;
    format->adoptTimeZone(time_zone_or_utc(time_zone).release());
    if (formats.dates.size() >= kMaxThreadDateFormats) formats.dates.clear();
    return formats.dates.emplace(std::move(key), std::move(format)).first->second.get();
}

// ---------------------------------------------------------------------------------------------
// Formatting

std::optional<std::int64_t> parse_integer(std::string_view text) {
    std::int64_t value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

std::optional<double> parse_number(std::string_view text) {
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::fixed);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

std::string number_text(double value) {
    char buffer[64];
    auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
    return ec == std::errc() ? std::string(buffer, end) : std::string();
}

// The epoch milliseconds an argument stands for, if it stands for one.
std::optional<std::int64_t> epoch_ms_of(const Arg::Value& value) {
    if (const auto* when = std::get_if<DateTime>(&value)) return when->epoch_ms;
    if (const auto* integer = std::get_if<std::int64_t>(&value)) return *integer;
    if (const auto* real = std::get_if<double>(&value)) {
        if (!(std::fabs(*real) < 9.2e18)) return std::nullopt;  // out of range, or NaN
        return static_cast<std::int64_t>(*real);
    }
    return parse_integer(std::get<std::string>(value));
}

std::string format_date(const CompiledMessage& message, DateKind kind, const std::string& style, bool plain,
                        std::int64_t epoch_ms, std::string_view time_zone) {
    icu::DateFormat* format = date_format(message.locale, kind, style, plain, time_zone);
    if (!format) return {};
    icu::UnicodeString out;
    format->format(static_cast<UDate>(epoch_ms), out);
    return to_utf8(out);
}

// The value ICU gets for an argument used as `usage`; nullopt leaves it out (shown as `{name}`).
std::optional<icu::Formattable> adapt(const CompiledMessage& message, Usage usage, const Arg::Value& value,
                                      std::string_view time_zone) {
    switch (usage) {
        case Usage::numeric:
            if (const auto* integer = std::get_if<std::int64_t>(&value)) return icu::Formattable(*integer);
            if (const auto* real = std::get_if<double>(&value)) return icu::Formattable(*real);
            if (const auto* when = std::get_if<DateTime>(&value)) return icu::Formattable(when->epoch_ms);
            if (auto integer = parse_integer(std::get<std::string>(value))) return icu::Formattable(*integer);
            if (auto real = parse_number(std::get<std::string>(value))) return icu::Formattable(*real);
            return std::nullopt;
        case Usage::select:
            if (const auto* integer = std::get_if<std::int64_t>(&value))
                return icu::Formattable(from_utf8(std::to_string(*integer)));
            if (const auto* real = std::get_if<double>(&value))
                return icu::Formattable(from_utf8(number_text(*real)));
            if (const auto* when = std::get_if<DateTime>(&value))
                return icu::Formattable(from_utf8(std::to_string(when->epoch_ms)));
            return icu::Formattable(from_utf8(std::get<std::string>(value)));
        case Usage::plain:
            if (const auto* integer = std::get_if<std::int64_t>(&value)) return icu::Formattable(*integer);
            if (const auto* real = std::get_if<double>(&value)) return icu::Formattable(*real);
            if (const auto* when = std::get_if<DateTime>(&value))
                return icu::Formattable(
                    from_utf8(format_date(message, DateKind::date, {}, true, when->epoch_ms, time_zone)));
            return icu::Formattable(from_utf8(std::get<std::string>(value)));
        case Usage::date_only:
            return std::nullopt;  // handled through the date slots
    }
    return std::nullopt;
}

const Arg::Value* find_arg(const Args& args, std::string_view name) {
    for (const auto& [n, v] : args)
        if (n == name) return &v.value();
    return nullptr;
}

std::string render(const CompiledMessage& message, const Args& args, std::string_view time_zone, bool cache) {
    if (!message.compiled) return message.pattern;

    std::vector<icu::UnicodeString> names;
    std::vector<icu::Formattable> values;
    names.reserve(args.size() + message.date_slots.size());
    values.reserve(args.size() + message.date_slots.size());
    for (const auto& [name, usage] : message.usage) {
        if (usage == Usage::date_only) continue;
        const Arg::Value* value = find_arg(args, name);
        if (!value) continue;
        if (auto adapted = adapt(message, usage, *value, time_zone)) {
            names.push_back(from_utf8(name));
            values.push_back(std::move(*adapted));
        }
    }
    for (const auto& slot : message.date_slots) {
        const Arg::Value* value = find_arg(args, slot.argument);
        std::optional<std::int64_t> epoch_ms = value ? epoch_ms_of(*value) : std::nullopt;
        std::string text = epoch_ms ? format_date(message, slot.kind, slot.style, false, *epoch_ms, time_zone)
                                    : "{" + slot.argument + "}";
        names.push_back(from_utf8(slot.slot));
        values.push_back(icu::Formattable(from_utf8(text)));
    }

    icu::MessageFormat* format = message_format(message, cache);
    UErrorCode status = U_ZERO_ERROR;
    icu::UnicodeString out;
    if (format) format->format(names.data(), values.data(), static_cast<int32_t>(values.size()), out, status);
    if (!format || U_FAILURE(status)) {
        if (!message.failure_logged.exchange(true))
            log::warn("i18n: formatting a {} message failed ({}); shown as written: {}", message.locale,
                      format ? u_errorName(status) : "no format", message.pattern);
        return message.pattern;
    }
    return to_utf8(out);
}

std::string case_map(std::string_view locale, std::string_view text, bool to_upper) {
    icu::UnicodeString s = from_utf8(text);
    const icu::Locale icu_locale(std::string(locale).c_str());
    if (to_upper)
        s.toUpper(icu_locale);
    else
        s.toLower(icu_locale);
    return to_utf8(s);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Catalog

Result<Catalog> Catalog::from_json(const std::map<std::string, std::string>& locale_to_json,
                                   std::string fallback) {
    Catalog catalog;
    catalog.fallback_ = std::move(fallback);
    for (const auto& [locale, text] : locale_to_json) {
        boost::system::error_code ec;
        auto value = boost::json::parse(text, ec);
        if (ec || !value.is_object())
            return Error(ErrorKind::internal, "i18n.bad_catalog", {{"locale", locale}}, ec.message());
        std::map<std::string, std::string, std::less<>> patterns;
        flatten(value.get_object(), "", patterns);
        auto& compiled = catalog.messages_[locale];
        for (const auto& [key, pattern] : patterns) {
            std::string failure;
            auto message = compile(locale, pattern, &failure);
            if (!message->compiled) {
                log::warn("i18n: {} {}: ICU cannot compile the message ({}); it is shown as written", locale,
                          key, failure);
                catalog.broken_.push_back(locale + " " + key + ": " + failure);
            }
            compiled.emplace(key, std::move(message));
        }
        catalog.locales_.push_back(locale);
    }
    if (!catalog.messages_.contains(catalog.fallback_))
        return Error(ErrorKind::internal, "i18n.bad_catalog", {{"locale", catalog.fallback_}},
                     "fallback locale missing");
    return catalog;
}

Result<Catalog> Catalog::load(const std::filesystem::path& dir, std::string fallback) {
    std::map<std::string, std::string> files;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        if (entry.path().extension() != ".json") continue;
        std::ifstream in(entry.path(), std::ios::binary);
        std::stringstream ss;
        ss << in.rdbuf();
        files[entry.path().stem().string()] = ss.str();
    }
    if (ec) return Error(ErrorKind::internal, "i18n.bad_catalog", {{"locale", dir.string()}}, ec.message());
    return from_json(files, std::move(fallback));
}

std::string Catalog::text(std::string_view locale, std::string_view key, const Args& args,
                          std::string_view time_zone) const {
    for (std::string_view l : {locale, std::string_view(fallback_)}) {
        auto catalog = messages_.find(l);
        if (catalog == messages_.end()) continue;
        if (auto it = catalog->second.find(key); it != catalog->second.end())
            return render(*it->second, args, time_zone, true);
    }
    return std::string(key);
}

std::string Catalog::error_text(std::string_view locale, const Error& error,
                                std::string_view time_zone) const {
    Args args;
    args.reserve(error.args.size());
    for (const auto& [name, value] : error.args) args.emplace_back(name, value);
    return text(locale, "error." + error.code, args, time_zone);
}

bool Catalog::has(std::string_view locale, std::string_view key) const {
    auto catalog = messages_.find(locale);
    return catalog != messages_.end() && catalog->second.find(key) != catalog->second.end();
}

std::optional<std::string_view> Catalog::pattern(std::string_view locale, std::string_view key) const {
    auto catalog = messages_.find(locale);
    if (catalog == messages_.end()) return std::nullopt;
    auto it = catalog->second.find(key);
    if (it == catalog->second.end()) return std::nullopt;
    return std::string_view(it->second->pattern);
}

bool Catalog::supports(std::string_view locale) const {
    return messages_.find(locale) != messages_.end();
}

std::vector<std::string> Catalog::keys(std::string_view locale) const {
    std::vector<std::string> out;
    if (auto it = messages_.find(locale); it != messages_.end())
        for (const auto& [k, v] : it->second) out.push_back(k);
    return out;
}

std::string Catalog::negotiate(std::string_view header) const {
    std::string best = fallback_;
    double best_q = -1;
    std::size_t entries = 0;
    while (!header.empty() && entries++ < 32) {  // bounded: a header is untrusted input
        auto comma = header.find(',');
        std::string_view item = header.substr(0, comma);
        header = comma == std::string_view::npos ? std::string_view{} : header.substr(comma + 1);
        auto semi = item.find(';');
        std::string tag = ascii_lower(item.substr(0, semi));
        tag.erase(std::remove_if(tag.begin(), tag.end(), [](unsigned char c) { return std::isspace(c); }),
                  tag.end());
        double q = 1.0;
        if (semi != std::string_view::npos) {
            auto qpos = item.find("q=", semi);
            if (qpos != std::string_view::npos) {
                try {
                    q = std::stod(std::string(item.substr(qpos + 2)));
                } catch (...) {
                    q = 0;
                }
            }
        }
        std::string primary = tag.substr(0, tag.find('-'));
        if (q > best_q && q > 0 && supports(primary)) {
            best = primary;
            best_q = q;
        }
    }
    return best;
}

// ---------------------------------------------------------------------------------------------
// Free functions

std::string format(std::string_view pattern, const Args& args, const Viewer& viewer) {
    auto message = compile(viewer.locale, pattern, nullptr);
    return render(*message, args, viewer.time_zone, false);
}

std::optional<std::vector<std::string>> argument_names(std::string_view pattern) {
    UParseError where{};
    UErrorCode status = U_ZERO_ERROR;
    icu::MessagePattern parsed(from_utf8(pattern), &where, status);
    if (U_FAILURE(status)) return std::nullopt;
    std::vector<std::string> names;
    for (int32_t i = 0; i < parsed.countParts(); ++i) {
        const auto type = parsed.getPart(i).getType();
        if (type == UMSGPAT_PART_TYPE_ARG_NAME || type == UMSGPAT_PART_TYPE_ARG_NUMBER)
            names.push_back(to_utf8(parsed.getSubstring(parsed.getPart(i))));
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

std::string upper(std::string_view locale, std::string_view text) {
    return case_map(locale, text, true);
}

std::string lower(std::string_view locale, std::string_view text) {
    return case_map(locale, text, false);
}

}  // namespace pitwall::i18n

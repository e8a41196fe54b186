// The slash commands as Discord's bulk-overwrite JSON. A translation unit of its own (library
// pitwall_bot_commands) because pitwall-bot needs it and nothing else of the server's features.
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "features/bot/commands.hpp"
#include "platform/i18n/catalog.hpp"

namespace pitwall::bot {

std::string command_definitions(const i18n::Catalog& catalog) {
    struct Option {
        int type;
        std::string_view name;
        bool required;
        std::vector<std::string_view> choices;
    };
    struct Definition {
        std::string_view name;
        std::vector<Option> options;
    };
    const std::vector<Definition> definitions{
        {"link", {}},
        {"whoami", {}},
        {"next", {}},
        {"availability", {{4, "event", true, {}}, {3, "hours", false, {}}}},
        {"register", {{4, "event", false, {}}, {3, "role", false, {"driver", "spotter", "both", "none"}}}},
        {"schedule", {}},
        {"stats", {{6, "member", false, {}}}},
    };
    auto localized = [&](const std::string& key) {
        return boost::json::object{{"tr", catalog.text("tr", key)}};
    };
    boost::json::array out;
    for (const auto& d : definitions) {
        const std::string base = "bot.command." + std::string(d.name);
        boost::json::object command{{"name", d.name},
                                    {"type", 1},
                                    {"description", catalog.text("en", base + ".description")},
                                    {"description_localizations", localized(base + ".description")}};
        boost::json::array options;
        for (const auto& o : d.options) {
            const std::string key = base + ".option." + std::string(o.name);
            boost::json::object option{{"type", o.type},
                                       {"name", o.name},
                                       {"description", catalog.text("en", key)},
                                       {"description_localizations", localized(key)},
                                       {"required", o.required}};
            if (!o.choices.empty()) {
                boost::json::array choices;
                for (auto choice : o.choices) {
                    const std::string choice_key = "bot.choice." + std::string(choice);
                    choices.push_back(boost::json::object{{"name", catalog.text("en", choice_key)},
                                                          {"name_localizations", localized(choice_key)},
                                                          {"value", choice}});
                }
                option["choices"] = std::move(choices);
            }
            options.push_back(std::move(option));
        }
        if (!options.empty()) command["options"] = std::move(options);
        out.push_back(std::move(command));
    }
    return boost::json::serialize(out);
}

}  // namespace pitwall::bot

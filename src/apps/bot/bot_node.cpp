#include "apps/bot/bot_node.hpp"

#include <boost/json.hpp>

#include "apps/bot/bridge_client.hpp"
#include "core/log.hpp"
#include "integrations/discord/gateway.hpp"
#include "integrations/discord/rest.hpp"

namespace pitwall::bot {
namespace {

namespace discord = integrations::discord;

std::string text_of(const boost::json::value* v) {
    return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

const boost::json::object* object_of(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    return v ? v->if_object() : nullptr;
}

// The slash commands whose answer everybody in the channel sees (team news); the rest are private.
bool public_reply(std::string_view command) {
    return command == "register";
}

}  // namespace

WorkerPool::WorkerPool(std::size_t threads) {
    for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i)
        threads_.emplace_back([this] {
            for (;;) {
                std::function<void()> task;
                {
                    std::unique_lock lock(mutex_);
                    wake_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
                    if (tasks_.empty()) return;  // stopping and drained
                    task = std::move(tasks_.front());
                    tasks_.pop_front();
                }
                task();
            }
        });
}

WorkerPool::~WorkerPool() {
    stop();
}

void WorkerPool::post(std::function<void()> task) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) return;
        tasks_.push_back(std::move(task));
    }
    wake_.notify_one();
}

void WorkerPool::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        tasks_.clear();
    }
    wake_.notify_all();
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

BotNode::BotNode(BotNodeOptions options, discord::RestClient& rest, const Clock& clock)
    : options_(std::move(options)),
      rest_(rest),
      clock_(clock),
      workers_(options_.dm_workers),
      application_id_(options_.application_id) {}

BotNode::~BotNode() {
    stop();
}

void BotNode::stop() {
    interactions_.stop();
    workers_.stop();
}

BotNodeStats BotNode::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

void BotNode::to_server(bridge::Message message) {
    if (!bridge_) return;
    // The link keeps a bounded number of unacknowledged messages; wait for room rather than drop.
    for (int attempt = 0; attempt < 600; ++attempt) {
        auto sent = bridge_->send(message);
        if (sent) return;
        if (sent.error().code != "bridge.backpressure") {
            log::warn("bot: message for the server dropped: {}", sent.error().code);
            return;
        }
        clock_.sleep_for(std::chrono::milliseconds(50));
    }
    log::warn("bot: the server has not acknowledged anything for 30 s; a message was dropped");
}

void BotNode::on_ready(const discord::GatewaySession& session) {
    {
        std::lock_guard lock(mutex_);
        if (application_id_.empty()) application_id_ = session.application_id;
    }
    if (options_.commands_json.empty() || options_.guild_id.empty()) return;
    interactions_.post([this] {
        std::string app;
        {
            std::lock_guard lock(mutex_);
            app = application_id_;
        }
        auto registered = rest_.overwrite_guild_commands(app, options_.guild_id, options_.commands_json);
        if (!registered)
            log::warn("bot: slash commands not registered: {} {}", registered.error().code,
                      registered.error().detail);
        else
            log::info("bot: {} slash commands registered in guild {}", registered->size(), options_.guild_id);
    });
}

void BotNode::on_dispatch(std::string_view type, std::string_view d_json) {
    if (type == "INTERACTION_CREATE")
        interaction(d_json);
    else if (type == "GUILD_MEMBER_UPDATE" || type == "GUILD_MEMBER_ADD")
        member_event(d_json, false);
    else if (type == "GUILD_MEMBER_REMOVE")
        member_event(d_json, true);
}

void BotNode::interaction(std::string_view d_json) {
    boost::system::error_code ec;
    auto value = boost::json::parse(d_json, ec);
    const auto* d = value.if_object();
    if (ec || !d) return;
    const auto* data = object_of(*d, "data");
    if (!data) return;
    bridge::Command command;
    command.ref = text_of(d->if_contains("id"));
    const std::string token = text_of(d->if_contains("token"));
    command.guild_id = text_of(d->if_contains("guild_id"));
    command.locale = text_of(d->if_contains("locale"));
    command.name = text_of(data->if_contains("name"));
    const boost::json::object* user = nullptr;
    if (const auto* member = object_of(*d, "member")) user = object_of(*member, "user");
    if (!user) user = object_of(*d, "user");
    if (command.ref.empty() || token.empty() || command.name.empty() || !user) return;
    command.discord_user_id = text_of(user->if_contains("id"));
    command.username = text_of(user->if_contains("username"));
    if (const auto* options = data->if_contains("options"); options && options->is_array()) {
        for (const auto& o : options->as_array()) {
            const auto* option = o.if_object();
            if (!option) continue;
            const std::string name = text_of(option->if_contains("name"));
            const auto* v = option->if_contains("value");
            if (name.empty() || !v) continue;
            if (v->is_string())
                command.options[name] = std::string(v->as_string());
            else if (v->is_int64())
                command.options[name] = v->as_int64();
            else if (v->is_uint64())
                command.options[name] = static_cast<std::int64_t>(v->as_uint64());
            else if (v->is_double())
                command.options[name] = v->as_double();
            else if (v->is_bool())
                command.options[name] = v->as_bool();
        }
    }
    {
        std::lock_guard lock(mutex_);
        pending_tokens_[command.ref] = token;
        ++stats_.interactions;
    }
    // Defer first (Discord shows "thinking..."), then ask the server, which is the source of truth.
    interactions_.post([this, command = std::move(command), token] {
        const std::string flags = public_reply(command.name) ? std::string() : std::string(R"({"flags":64})");
        if (auto deferred = rest_.interaction_callback(command.ref, token, 5, flags); !deferred) {
            log::warn("bot: interaction {} not deferred: {}", command.ref, deferred.error().code);
            std::lock_guard lock(mutex_);
            pending_tokens_.erase(command.ref);
            return;
        }
        to_server(command);
    });
}

void BotNode::command_result(const bridge::CommandResult& result) {
    std::string token, app;
    {
        std::lock_guard lock(mutex_);
        auto found = pending_tokens_.find(result.ref);
        if (found == pending_tokens_.end()) return;  // answered already (a replay after a reconnect)
        token = found->second;
        app = application_id_;
        pending_tokens_.erase(found);
    }
    if (result.content.empty()) return;
    interactions_.post([this, token, app, content = result.content] {
        boost::json::object data{{"content", content.size() > 2000 ? content.substr(0, 2000) : content},
                                 {"allowed_mentions", boost::json::object{{"parse", boost::json::array{}}}}};
        if (auto edited = rest_.edit_original(app, token, boost::json::serialize(data)); !edited)
            log::warn("bot: reply not sent: {}", edited.error().code);
    });
}

void BotNode::member_event(std::string_view d_json, bool removed) {
    boost::system::error_code ec;
    auto value = boost::json::parse(d_json, ec);
    const auto* d = value.if_object();
    if (ec || !d) return;
    if (!options_.guild_id.empty() && text_of(d->if_contains("guild_id")) != options_.guild_id) return;
    const auto* user = object_of(*d, "user");
    if (!user) return;
    bridge::MemberUpdate update;
    update.discord_user_id = text_of(user->if_contains("id"));
    update.username = text_of(user->if_contains("username"));
    if (const auto* nick = d->if_contains("nick"); nick && nick->is_string())
        update.nick = std::string(nick->as_string());
    if (const auto* roles = d->if_contains("roles"); roles && roles->is_array())
        for (const auto& r : roles->as_array())
            if (r.is_string()) update.roles.emplace_back(r.as_string());
    update.removed = removed;
    if (update.discord_user_id.empty()) return;
    {
        std::lock_guard lock(mutex_);
        ++stats_.member_updates;
    }
    workers_.post([this, update = std::move(update)] { to_server(update); });
}

void BotNode::on_bridge_message(const bridge::Message& message) {
    std::visit(
        [&](const auto& m) {
            using T = std::decay_t<decltype(m)>;
            if constexpr (std::is_same_v<T, bridge::DmSend>) {
                workers_.post([this, m] { deliver(m); });
            } else if constexpr (std::is_same_v<T, bridge::RolesApply>) {
                workers_.post([this, m] { apply_roles(m); });
            } else if constexpr (std::is_same_v<T, bridge::Announce>) {
                workers_.post([this, m] { announce(m); });
            } else if constexpr (std::is_same_v<T, bridge::CommandResult>) {
                command_result(m);
            }
        },
        message);
}

void BotNode::deliver(const bridge::DmSend& dm) {
    std::optional<bridge::DmResult> repeat;
    {
        std::lock_guard lock(mutex_);
        if (auto done = delivered_.find(dm.id); done != delivered_.end()) {
            ++stats_.dms_repeated;
            repeat = bridge::DmResult{
                .id = dm.id, .status = bridge::DmStatus::delivered, .message_id = done->second};
        } else if (in_progress_[dm.id]++ > 0) {
            return;  // the same DM is being sent right now; that attempt reports
        }
    }
    if (repeat) {
        // Delivered before: report again (the first report may be what was lost), touch nothing.
        to_server(*repeat);
        return;
    }
    bridge::DmResult result{.id = dm.id};
    auto channel = rest_.open_dm(dm.discord_user_id);
    Result<std::string> sent =
        channel ? rest_.create_message(*channel, {.content = dm.content,
                                                  .embeds_json = {},
                                                  .nonce = dm.nonce.empty() ? dm.id : dm.nonce,
                                                  .enforce_nonce = true})
                : Result<std::string>(channel.error());
    if (sent) {
        result.status = bridge::DmStatus::delivered;
        result.message_id = *sent;
    } else {
        result.status = bridge::DmStatus::failed;
        result.error = sent.error().code;
        if (const int code = discord::discord_code(sent.error())) result.discord_code = code;
        if (const double wait = discord::retry_after_seconds(sent.error()); wait > 0)
            result.retry_after_ms = static_cast<std::uint64_t>(wait * 1000);
    }
    {
        std::lock_guard lock(mutex_);
        in_progress_.erase(dm.id);
        if (sent) {
            ++stats_.dms_delivered;
            delivered_[dm.id] = *sent;
            delivered_order_.push_back(dm.id);
            while (delivered_order_.size() > options_.delivered_memory) {
                delivered_.erase(delivered_order_.front());
                delivered_order_.pop_front();
            }
        } else {
            ++stats_.dms_failed;
        }
    }
    to_server(result);
}

void BotNode::apply_roles(const bridge::RolesApply& roles) {
    bridge::RolesResult result{.id = roles.id, .ok = true};
    for (const auto& role : roles.add)
        if (auto added = rest_.add_role(options_.guild_id, roles.discord_user_id, role, roles.reason);
            !added) {
            result.ok = false;
            result.error = added.error().code;
        }
    for (const auto& role : roles.remove)
        if (auto removed = rest_.remove_role(options_.guild_id, roles.discord_user_id, role, roles.reason);
            !removed) {
            result.ok = false;
            result.error = removed.error().code;
        }
    to_server(result);
}

void BotNode::announce(const bridge::Announce& a) {
    bridge::AnnounceResult result{.id = a.id};
    if (a.message_id) {
        if (auto edited = rest_.edit_message(a.channel_id, *a.message_id, a.content); edited)
            result.message_id = *a.message_id;
        else
            result.error = edited.error().code;
    } else {
        auto sent = rest_.create_message(
            a.channel_id,
            {.content = a.content, .embeds_json = {}, .nonce = a.id.substr(0, 25), .enforce_nonce = true});
        if (sent)
            result.message_id = *sent;
        else
            result.error = sent.error().code;
    }
    to_server(result);
}

}  // namespace pitwall::bot

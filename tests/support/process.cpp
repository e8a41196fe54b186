#include "process.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <grp.h>
#include <iterator>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace pitwall::test_support {

namespace {

struct Credentials {
    uid_t uid;
    gid_t gid;
};

// Servers such as PostgreSQL refuse to run as root; as any other user they run as that user.
std::optional<Credentials> credentials_for(const std::optional<std::string>& user) {
    if (!user || geteuid() != 0) return std::nullopt;
    passwd entry{};
    passwd* found = nullptr;
    std::vector<char> buffer(16384);
    if (getpwnam_r(user->c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found)
        throw std::runtime_error("no such user: " + *user);
    return Credentials{entry.pw_uid, entry.pw_gid};
}

std::string describe(int status) {
    if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
    return "status " + std::to_string(status);
}

}  // namespace

ChildProcess::ChildProcess(const SpawnOptions& options) {
    if (options.argv.empty()) throw std::runtime_error("ChildProcess: empty argv");
    const auto credentials = credentials_for(options.run_as);
    const int log = open(options.log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (log < 0)
        throw std::runtime_error("cannot open " + options.log.string() + ": " + std::strerror(errno));
    const int null_input = open("/dev/null", O_RDONLY | O_CLOEXEC);
    std::vector<char*> argv;
    for (const auto& arg : options.argv) argv.push_back(const_cast<char*>(arg.c_str()));
    argv.push_back(nullptr);
    const char* directory = options.working_dir.empty() ? nullptr : options.working_dir.c_str();
    std::vector<char*> envp;
    if (options.environment) {
        for (const auto& entry : *options.environment) envp.push_back(const_cast<char*>(entry.c_str()));
        envp.push_back(nullptr);
    }
    const int death_signal = options.parent_death_signal;
    const pid_t parent = getpid();

    const pid_t pid = fork();
    if (pid == 0) {
        // Only async-signal-safe calls between fork and exec.
        if (dup2(null_input, 0) < 0 || dup2(log, 1) < 0 || dup2(log, 2) < 0) _exit(126);
        if (credentials &&
            (setgroups(0, nullptr) != 0 || setgid(credentials->gid) != 0 || setuid(credentials->uid) != 0))
            _exit(126);
        // After the uid change, which clears it. A server must not outlive a crashed test binary.
        if (prctl(PR_SET_PDEATHSIG, death_signal) != 0 || getppid() != parent) _exit(126);
        if (directory && chdir(directory) != 0) _exit(126);
        if (options.environment)
            execvpe(argv[0], argv.data(), envp.data());
        else
            execvp(argv[0], argv.data());
        constexpr char message[] = "exec failed\n";
        (void)!write(2, message, sizeof message - 1);
        _exit(127);
    }
    const int fork_error = errno;
    close(log);
    if (null_input >= 0) close(null_input);
    if (pid < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(fork_error));
    pid_ = pid;
}

ChildProcess::~ChildProcess() {
    if (pid_ > 0 && running()) {
        kill(pid_, SIGKILL);
        wait();
    }
}

bool ChildProcess::running() {
    if (status_) return false;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
        status_ = status;
        return false;
    }
    return true;
}

int ChildProcess::wait() {
    while (!status_) {
        int status = 0;
        const pid_t done = waitpid(pid_, &status, 0);
        if (done == pid_)
            status_ = status;
        else if (done < 0 && errno != EINTR)
            throw std::runtime_error(std::string("waitpid: ") + std::strerror(errno));
    }
    return *status_;
}

std::optional<int> ChildProcess::wait_for(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (running() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (running()) return std::nullopt;
    return *status_;
}

int ChildProcess::stop(int signal, std::chrono::milliseconds grace) {
    if (running()) {
        kill(pid_, signal);
        const auto deadline = std::chrono::steady_clock::now() + grace;
        while (running() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (running()) kill(pid_, SIGKILL);
    }
    return wait();
}

void run_checked(const SpawnOptions& options) {
    ChildProcess child(options);
    const int status = child.wait();
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
    throw std::runtime_error(options.argv.front() + " failed (" + describe(status) + "):\n" +
                             log_tail(options.log));
}

int free_tcp_port() {
    const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
                    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
    const int error = errno;
    close(fd);
    if (!ok) throw std::runtime_error(std::string("cannot find a free port: ") + std::strerror(error));
    return ntohs(address.sin_port);
}

std::string log_tail(const std::filesystem::path& log, std::size_t bytes) {
    std::ifstream in(log, std::ios::binary);
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    return text.size() > bytes ? text.substr(text.size() - bytes) : text;
}

}  // namespace pitwall::test_support

// Boost.Asio and Boost.Beast in separate-compilation mode: their non-template code is compiled
// here once instead of in every translation unit that includes them (see CMakeLists.txt).
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>

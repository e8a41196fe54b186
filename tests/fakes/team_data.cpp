#include "team_data.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>

namespace pitwall::fakes {
namespace {

// ---- deterministic hashing ----------------------------------------------------------------------

std::uint64_t splitmix(std::uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

template <class... T>
std::uint64_t H(std::uint64_t seed, T... values) {
    std::uint64_t x = splitmix(seed);
    ((x = splitmix(x ^ static_cast<std::uint64_t>(values))), ...);
    return x;
}

double unit(std::uint64_t x) {
    return static_cast<double>(x >> 11) * 0x1.0p-53;
}

// Tags keep the hash streams of different decisions apart.
enum Tag : std::uint64_t {
    kTagRace = 1,
    kTagRaceCount,
    kTagRaceHour,
    kTagRaceSeries,
    kTagMemberCar,
    kTagFieldSize,
    kTagSynthetic,
    kTagLap,
    kTagLapDirty,
    kTagQualify,
    kTagDnf,
    kTagPractice,
    kTagLeagueAttend,
    kTagIrating,
    kTagEntryCount,
    kTagSectors,
    kTagUlid,
};

class Rng {
  public:
    explicit Rng(std::uint64_t seed) : state_(seed) {}
    std::uint64_t next() { return splitmix(state_ += 0x632be59bd9b4e019ULL); }
    int between(int lo, int hi) {  // inclusive
        return lo + static_cast<int>(next() % static_cast<std::uint64_t>(hi - lo + 1));
    }
    double real(double lo, double hi) { return lo + unit(next()) * (hi - lo); }
    bool chance(double p) { return unit(next()) < p; }

  private:
    std::uint64_t state_;
};

std::string hex_of(std::uint64_t v, int digits) {
    static const char* kHex = "0123456789abcdef";
    std::string out(static_cast<std::size_t>(digits), '0');
    for (int i = digits - 1; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = kHex[v & 15];
        v >>= 4;
    }
    return out;
}

std::string uuid_like(std::uint64_t a, std::uint64_t b) {
    std::string h = hex_of(a, 16) + hex_of(b, 16);
    h[12] = '4';
    return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) + "-" +
           h.substr(20, 12);
}

// Latin letters with diacritics (Turkish and a few European ones) to ASCII, then lower case.
std::string fold(std::string_view text) {
    static const std::pair<std::string_view, char> kMap[] = {
        {"ç", 'c'}, {"Ç", 'c'}, {"ğ", 'g'}, {"Ğ", 'g'}, {"ı", 'i'}, {"İ", 'i'}, {"ö", 'o'},
        {"Ö", 'o'}, {"ş", 's'}, {"Ş", 's'}, {"ü", 'u'}, {"Ü", 'u'}, {"é", 'e'}, {"è", 'e'},
        {"á", 'a'}, {"ã", 'a'}, {"ó", 'o'}, {"ô", 'o'}, {"í", 'i'}, {"ñ", 'n'}, {"ä", 'a'},
        {"å", 'a'}, {"ø", 'o'}, {"ú", 'u'}, {"â", 'a'}, {"ê", 'e'}, {"š", 's'}, {"č", 'c'},
        {"ř", 'r'}, {"ž", 'z'}, {"ł", 'l'}, {"ń", 'n'}, {"ś", 's'}, {"ć", 'c'},
    };
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        bool mapped = false;
        if (static_cast<unsigned char>(text[i]) >= 0x80) {
            for (const auto& [from, to] : kMap) {
                if (text.substr(i).starts_with(from)) {
                    out += to;
                    i += from.size();
                    mapped = true;
                    break;
                }
            }
            if (!mapped) ++i;  // drop anything else outside ASCII
            continue;
        }
        char c = text[i++];
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        out += c;
    }
    return out;
}

std::string slugify(std::string_view text) {
    std::string folded = fold(text), out;
    for (char c : folded) {
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
            out += c;
        else if (!out.empty() && out.back() != '-')
            out += '-';
    }
    while (!out.empty() && out.back() == '-') out.pop_back();
    return out;
}

// ---- calendar -----------------------------------------------------------------------------------

std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
    const auto yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

struct Civil {
    std::int64_t y;
    unsigned m, d;
};
Civil civil_from_days(std::int64_t z) {
    z += 719468;
    const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    return {y + (m <= 2), m, d};
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
    std::int64_t q = a / b;
    if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
    return q;
}
std::int64_t floor_mod(std::int64_t a, std::int64_t b) {
    return a - floor_div(a, b) * b;
}

const std::int64_t kEpoch2020Ms = days_from_civil(2020, 1, 1) * kDayMs;
const std::int64_t kSeasonAnchorMs = days_from_civil(2023, 12, 12) * kDayMs;  // a Tuesday
constexpr std::int64_t kSeasonLengthMs = 13 * kWeekMs;
constexpr std::int64_t kOfficialSubsessionBase = 50'000'000;
constexpr std::int64_t kOfficialSessionBase = 150'000'000;
constexpr std::int64_t kLeagueSubsessionBase = 90'000'000;
constexpr std::int64_t kLeagueSessionBase = 190'000'000;
constexpr int kSeriesSlots = 32;
constexpr int kSeasonOffset = 100;  // keeps encoded season indices positive

std::int64_t day_of(std::int64_t ms) {
    return floor_div(ms, kDayMs);
}
std::int64_t hour_index(std::int64_t ms) {
    return floor_div(ms - kEpoch2020Ms, kHourMs);
}
std::int64_t hour_start_ms(std::int64_t h) {
    return kEpoch2020Ms + h * kHourMs;
}

// ---- catalogue ----------------------------------------------------------------------------------

struct CarClass {
    std::string_view name;
    int id;
    double speed_kmh;
};
constexpr CarClass kClasses[] = {
    {"MX5", 74, 118},       {"GR86", 4012, 125},        {"GT4", 4048, 145},     {"TCR", 4029, 140},
    {"CLIO", 4085, 122},    {"CUP", 4055, 155},         {"GT3", 2708, 162},     {"GTE", 4044, 166},
    {"LMP2", 4030, 180},    {"LMP3", 4081, 165},        {"GTP", 4074, 186},     {"RADICAL", 4016, 165},
    {"HPD", 4032, 175},     {"LMP1", 4034, 195},        {"TOUR", 4003, 135},    {"FVEE", 4001, 110},
    {"FF1600", 4080, 128},  {"SKIP", 4005, 130},        {"F4", 4070, 145},      {"USF", 4040, 142},
    {"PM18", 4041, 155},    {"F3", 4042, 168},          {"FR20", 4043, 150},    {"FR35", 4045, 175},
    {"SFL", 4077, 172},     {"SF23", 4079, 200},        {"IR18", 4046, 188},    {"IR01", 4047, 205},
    {"F1", 4073, 212},      {"LOTUS79", 4049, 180},     {"LOTUS49", 4050, 150}, {"NEXTGEN", 4052, 190},
    {"XFIN", 4053, 182},    {"TRUCK", 4054, 176},       {"ARCA", 4056, 172},    {"STREET", 4057, 130},
    {"LMSC", 4058, 150},    {"LEGENDS", 4059, 120},     {"SKMOD", 4060, 145},   {"TOURMOD", 4061, 160},
    {"SLM", 4062, 155},     {"SILVERCROWN", 4063, 185}, {"SPRINT", 4064, 190},  {"SPR305", 4065, 130},
    {"SPR360", 4066, 140},  {"SPR410", 4067, 155},      {"DLM", 4068, 128},     {"MIDGET", 4069, 125},
    {"DSTREET", 4071, 105}, {"DMOD", 4072, 118},        {"DMINI", 4075, 100},   {"MICRO", 4076, 105},
};

struct CarRow {
    std::string_view name;
    std::string_view abbrev;
    int category;
    std::string_view car_class;
    int hp;
    int kg;
};
// The classes OFFROAD, RALLY and RX are added below the table (kept apart to fit the array size).
const std::vector<CarRow>& car_rows() {
    static const std::vector<CarRow> rows{
        {"Global Mazda MX-5 Cup", "MX5", kSportsCar, "MX5", 181, 1080},
        {"Mazda MX-5 Cup (2015)", "MX5-15", kSportsCar, "MX5", 155, 1040},
        {"Pontiac Solstice", "SOLSTICE", kSportsCar, "MX5", 177, 1150},
        {"Toyota GR86", "GR86", kSportsCar, "GR86", 228, 1270},
        {"Porsche 718 Cayman GT4 Clubsport MR", "CAY GT4", kSportsCar, "GT4", 425, 1320},
        {"BMW M4 G82 GT4", "M4 GT4", kSportsCar, "GT4", 450, 1450},
        {"Aston Martin Vantage GT4", "AMV GT4", kSportsCar, "GT4", 476, 1400},
        {"McLaren 570S GT4", "570S GT4", kSportsCar, "GT4", 562, 1350},
        {"Mercedes-AMG GT4", "AMG GT4", kSportsCar, "GT4", 455, 1430},
        {"Ford Mustang GT4", "MUS GT4", kSportsCar, "GT4", 440, 1440},
        {"Ruf RT 12R", "RUF", kSportsCar, "GT4", 630, 1380},
        {"Audi RS 3 LMS TCR", "RS3 TCR", kSportsCar, "TCR", 340, 1180},
        {"Hyundai Elantra N TC", "ELN TC", kSportsCar, "TCR", 345, 1210},
        {"Honda Civic Type R TCR", "CIV TCR", kSportsCar, "TCR", 340, 1230},
        {"Hyundai Veloster N TC", "VEL TC", kSportsCar, "TCR", 345, 1200},
        {"Renault Clio R.S. V", "CLIO", kSportsCar, "CLIO", 200, 1080},
        {"Porsche 911 GT3 Cup (992)", "992 CUP", kSportsCar, "CUP", 510, 1260},
        {"Porsche 911 GT3 Cup (991)", "991 CUP", kSportsCar, "CUP", 485, 1200},
        {"Ferrari 488 Challenge Evo", "488 CH", kSportsCar, "CUP", 670, 1300},
        {"Lamborghini Huracán Super Trofeo EVO2", "HST EVO2", kSportsCar, "CUP", 620, 1270},
        {"Audi R8 LMS EVO II GT3", "R8 GT3", kSportsCar, "GT3", 585, 1235},
        {"BMW M4 GT3", "M4 GT3", kSportsCar, "GT3", 590, 1300},
        {"Ferrari 296 GT3", "296 GT3", kSportsCar, "GT3", 600, 1250},
        {"Ford Mustang GT3", "MUS GT3", kSportsCar, "GT3", 590, 1310},
        {"Lamborghini Huracán GT3 EVO", "HUR GT3", kSportsCar, "GT3", 580, 1240},
        {"McLaren 720S GT3 EVO", "720S GT3", kSportsCar, "GT3", 570, 1260},
        {"Mercedes-AMG GT3 2020", "AMG GT3", kSportsCar, "GT3", 550, 1285},
        {"Porsche 911 GT3 R (992)", "992 GT3R", kSportsCar, "GT3", 565, 1260},
        {"Aston Martin Vantage GT3 EVO", "AMV GT3", kSportsCar, "GT3", 535, 1245},
        {"Acura NSX GT3 EVO 22", "NSX GT3", kSportsCar, "GT3", 550, 1270},
        {"Chevrolet Corvette Z06 GT3.R", "Z06 GT3", kSportsCar, "GT3", 590, 1300},
        {"Ferrari 488 GT3 Evo 2020", "488 GT3", kSportsCar, "GT3", 600, 1260},
        {"BMW M8 GTE", "M8 GTE", kSportsCar, "GTE", 500, 1245},
        {"Ferrari 488 GTE", "488 GTE", kSportsCar, "GTE", 500, 1245},
        {"Porsche 911 RSR", "RSR", kSportsCar, "GTE", 510, 1245},
        {"Ford GT GTE", "FGT", kSportsCar, "GTE", 500, 1245},
        {"Chevrolet Corvette C8.R GTE", "C8R", kSportsCar, "GTE", 500, 1245},
        {"Dallara P217", "P217", kSportsCar, "LMP2", 600, 930},
        {"Ligier JS P320", "JSP320", kSportsCar, "LMP3", 455, 950},
        {"Cadillac V-Series.R GTP", "CAD GTP", kSportsCar, "GTP", 670, 1030},
        {"Porsche 963 GTP", "963 GTP", kSportsCar, "GTP", 670, 1030},
        {"BMW M Hybrid V8", "BMW GTP", kSportsCar, "GTP", 670, 1030},
        {"Acura ARX-06 GTP", "ARX-06", kSportsCar, "GTP", 670, 1030},
        {"Radical SR8", "SR8", kSportsCar, "RADICAL", 440, 680},
        {"Radical SR10", "SR10", kSportsCar, "RADICAL", 460, 700},
        {"HPD ARX-01c", "ARX-01c", kSportsCar, "HPD", 480, 900},
        {"Audi R18", "R18", kSportsCar, "LMP1", 870, 875},
        {"Porsche 919", "919", kSportsCar, "LMP1", 900, 875},
        {"Cadillac CTS-V Racecar", "CTS-V", kSportsCar, "TOUR", 600, 1450},
        {"Kia Optima", "OPTIMA", kSportsCar, "TOUR", 274, 1400},
        {"Ford Mustang FR500S", "FR500S", kSportsCar, "TOUR", 350, 1450},
        {"Volkswagen Jetta TDI Cup", "JETTA", kSportsCar, "TOUR", 170, 1300},
        {"BMW Z4 GT3", "Z4 GT3", kSportsCar, "GT3", 520, 1280},
        {"Formula Vee", "VEE", kFormulaCar, "FVEE", 60, 400},
        {"Ray FF1600", "FF1600", kFormulaCar, "FF1600", 115, 480},
        {"Skip Barber Formula 2000", "SBF2000", kFormulaCar, "SKIP", 132, 580},
        {"FIA F4", "F4", kFormulaCar, "F4", 160, 570},
        {"USF 2000", "USF2000", kFormulaCar, "USF", 175, 555},
        {"Indy Pro 2000 PM-18", "PM-18", kFormulaCar, "PM18", 275, 610},
        {"Pro Mazda", "PM", kFormulaCar, "PM18", 250, 620},
        {"Star Mazda", "SM", kFormulaCar, "PM18", 240, 630},
        {"Dallara F3", "F3", kFormulaCar, "F3", 270, 565},
        {"Formula Renault 2.0", "FR2.0", kFormulaCar, "FR20", 210, 490},
        {"Formula Renault 3.5", "FR3.5", kFormulaCar, "FR35", 530, 600},
        {"Super Formula Lights", "SFL", kFormulaCar, "SFL", 270, 660},
        {"Super Formula SF23 - Toyota", "SF23 T", kFormulaCar, "SF23", 550, 670},
        {"Super Formula SF23 - Honda", "SF23 H", kFormulaCar, "SF23", 550, 670},
        {"Dallara IR18", "IR18", kFormulaCar, "IR18", 700, 730},
        {"Dallara DW12", "DW12", kFormulaCar, "IR18", 650, 700},
        {"Dallara iR-01", "IR-01", kFormulaCar, "IR01", 840, 630},
        {"Mercedes-AMG W13 E Performance", "W13", kFormulaCar, "F1", 1000, 798},
        {"Mercedes-AMG W12 E Performance", "W12", kFormulaCar, "F1", 1000, 752},
        {"McLaren MP4-30", "MP4-30", kFormulaCar, "F1", 900, 702},
        {"Williams FW31", "FW31", kFormulaCar, "F1", 750, 605},
        {"Lotus 79", "L79", kFormulaCar, "LOTUS79", 485, 578},
        {"Lotus 49", "L49", kFormulaCar, "LOTUS49", 410, 501},
        {"NASCAR Cup Series Next Gen Chevrolet Camaro ZL1", "CUP CHV", kOval, "NEXTGEN", 670, 1550},
        {"NASCAR Cup Series Next Gen Ford Mustang", "CUP FRD", kOval, "NEXTGEN", 670, 1550},
        {"NASCAR Cup Series Next Gen Toyota Camry", "CUP TOY", kOval, "NEXTGEN", 670, 1550},
        {"NASCAR Xfinity Chevrolet Camaro", "XF CHV", kOval, "XFIN", 650, 1450},
        {"NASCAR Xfinity Ford Mustang", "XF FRD", kOval, "XFIN", 650, 1450},
        {"NASCAR Xfinity Toyota Supra", "XF TOY", kOval, "XFIN", 650, 1450},
        {"NASCAR Truck Chevrolet Silverado", "TR CHV", kOval, "TRUCK", 650, 1500},
        {"NASCAR Truck Ford F150", "TR FRD", kOval, "TRUCK", 650, 1500},
        {"NASCAR Truck Toyota Tundra TRD Pro", "TR TOY", kOval, "TRUCK", 650, 1500},
        {"ARCA Menards Chevrolet Impala", "ARCA CHV", kOval, "ARCA", 700, 1450},
        {"ARCA Menards Ford Fusion", "ARCA FRD", kOval, "ARCA", 700, 1450},
        {"ARCA Menards Toyota Camry", "ARCA TOY", kOval, "ARCA", 700, 1450},
        {"NASCAR Legends Ford Thunderbird 1987", "TBIRD87", kOval, "XFIN", 650, 1600},
        {"NASCAR Legends Buick LeSabre 1987", "LESABRE87", kOval, "XFIN", 650, 1600},
        {"NASCAR Gen 4 Chevrolet Monte Carlo 2003", "MC03", kOval, "XFIN", 750, 1550},
        {"Street Stock", "SS", kOval, "STREET", 400, 1450},
        {"Late Model Stock", "LMSC", kOval, "LMSC", 420, 1360},
        {"Legends Ford '34 Coupe", "LEG", kOval, "LEGENDS", 140, 590},
        {"Modified - SK", "SK", kOval, "SKMOD", 475, 1130},
        {"Modified - Tour", "TOUR MOD", kOval, "TOURMOD", 650, 1180},
        {"Super Late Model", "SLM", kOval, "SLM", 650, 1250},
        {"Silver Crown", "SC", kOval, "SILVERCROWN", 830, 680},
        {"Sprint Car", "SPRINT", kOval, "SPRINT", 830, 630},
        {"Dallara IR-05", "IR-05", kOval, "IR18", 650, 700},
        {"Dirt Sprint Car - 305", "305 SPR", kDirtOval, "SPR305", 550, 600},
        {"Dirt Sprint Car - 360", "360 SPR", kDirtOval, "SPR360", 700, 600},
        {"Dirt Sprint Car - 410", "410 SPR", kDirtOval, "SPR410", 900, 600},
        {"Dirt Sprint Car - 360 Non-Winged", "360 NW", kDirtOval, "SPR360", 700, 590},
        {"Dirt Sprint Car - 410 Non-Winged", "410 NW", kDirtOval, "SPR410", 900, 590},
        {"Dirt Late Model - Limited", "LLM", kDirtOval, "DLM", 600, 1040},
        {"Dirt Late Model - Pro", "PLM", kDirtOval, "DLM", 700, 1040},
        {"Dirt Late Model - Super", "SLM D", kDirtOval, "DLM", 850, 1040},
        {"Dirt Midget", "MIDGET", kDirtOval, "MIDGET", 350, 470},
        {"Dirt Street Stock", "DSS", kDirtOval, "DSTREET", 360, 1400},
        {"Dirt UMP Modified", "UMP", kDirtOval, "DMOD", 450, 1090},
        {"Dirt Big Block Modified", "BBM", kDirtOval, "DMOD", 750, 1090},
        {"Dirt Mini Stock", "MINI", kDirtOval, "DMINI", 160, 1000},
        {"Dirt Micro Sprint - Winged", "MICRO W", kDirtOval, "MICRO", 130, 320},
        {"Dirt Micro Sprint - Non-Winged", "MICRO NW", kDirtOval, "MICRO", 130, 310},
        {"Dirt Micro Sprint - Outlaw", "MICRO OL", kDirtOval, "MICRO", 145, 320},
        {"Lucas Oil Off Road Pro 2 Lite", "PRO2L", kDirtRoad, "OFFROAD", 250, 1100},
        {"Lucas Oil Off Road Pro 2 Truck", "PRO2", kDirtRoad, "OFFROAD", 800, 2000},
        {"Lucas Oil Off Road Pro 4 Truck", "PRO4", kDirtRoad, "OFFROAD", 900, 2000},
        {"Ford Fiesta RS WRC", "FIESTA WRC", kDirtRoad, "RALLY", 380, 1190},
        {"Volkswagen Beetle GRC Lite", "BEETLE", kDirtRoad, "RX", 310, 1230},
        {"Subaru WRX STI", "WRX", kDirtRoad, "RX", 600, 1300},
        {"Ford Fiesta Rallycross", "FIESTA RX", kDirtRoad, "RX", 600, 1300},
        {"Volkswagen Polo GTI R5", "POLO R5", kDirtRoad, "RALLY", 280, 1230},
        {"Hyundai i20 N Rally2", "I20", kDirtRoad, "RALLY", 290, 1230},
        {"Toyota GR Yaris Rally2", "YARIS", kDirtRoad, "RALLY", 290, 1230},
        {"Skoda Fabia RS Rally2", "FABIA", kDirtRoad, "RALLY", 290, 1230},
    };
    return rows;
}

std::pair<int, double> class_of(std::string_view name) {
    for (const auto& c : kClasses)
        if (c.name == name) return {c.id, c.speed_kmh};
    if (name == "OFFROAD") return {4082, 95};
    if (name == "RALLY") return {4083, 100};
    if (name == "RX") return {4084, 108};
    throw std::logic_error("unknown car class");
}

struct TrackRow {
    std::string_view name;
    std::string_view config;
    int category;
    double km;
    int corners;
    double factor;
    std::string_view location;
    std::string_view tz;
    double lat, lon;
};
const std::vector<TrackRow>& track_rows() {
    static const std::vector<TrackRow> rows{
        {"Circuit de Spa-Francorchamps", "Grand Prix Pits", kRoad, 7.004, 20, 1.08, "Stavelot, Belgium",
         "Europe/Brussels", 50.437, 5.971},
        {"Circuit de Spa-Francorchamps", "Endurance", kRoad, 7.004, 20, 1.08, "Stavelot, Belgium",
         "Europe/Brussels", 50.437, 5.971},
        {"Circuit des 24 Heures du Mans", "24 Heures du Mans", kRoad, 13.626, 38, 1.15, "Le Mans, France",
         "Europe/Paris", 47.950, 0.224},
        {"Nürburgring Grand-Prix-Strecke", "Grand Prix", kRoad, 5.148, 15, 0.97, "Nürburg, Germany",
         "Europe/Berlin", 50.335, 6.947},
        {"Nürburgring Nordschleife", "Industriefahrten", kRoad, 20.832, 73, 1.0, "Nürburg, Germany",
         "Europe/Berlin", 50.335, 6.947},
        {"Nürburgring Combined", "Gesamtstrecke 24h", kRoad, 25.378, 170, 1.0, "Nürburg, Germany",
         "Europe/Berlin", 50.335, 6.947},
        {"Autodromo Nazionale Monza", "Grand Prix", kRoad, 5.793, 11, 1.15, "Monza, Italy", "Europe/Rome",
         45.620, 9.281},
        {"Autodromo Nazionale Monza", "Combined", kRoad, 10.0, 18, 1.2, "Monza, Italy", "Europe/Rome", 45.620,
         9.281},
        {"Silverstone Circuit", "Grand Prix", kRoad, 5.891, 18, 1.05, "Silverstone, United Kingdom",
         "Europe/London", 52.070, -1.015},
        {"Silverstone Circuit", "International", kRoad, 2.978, 9, 0.98, "Silverstone, United Kingdom",
         "Europe/London", 52.070, -1.015},
        {"Silverstone Circuit", "National", kRoad, 2.639, 7, 1.0, "Silverstone, United Kingdom",
         "Europe/London", 52.070, -1.015},
        {"Brands Hatch Circuit", "Grand Prix", kRoad, 3.908, 9, 0.98, "West Kingsdown, United Kingdom",
         "Europe/London", 51.356, 0.262},
        {"Brands Hatch Circuit", "Indy", kRoad, 1.929, 6, 0.92, "West Kingsdown, United Kingdom",
         "Europe/London", 51.356, 0.262},
        {"Donington Park Racing Circuit", "Grand Prix", kRoad, 4.020, 12, 0.98,
         "Castle Donington, United Kingdom", "Europe/London", 52.830, -1.375},
        {"Donington Park Racing Circuit", "National", kRoad, 3.185, 10, 0.97,
         "Castle Donington, United Kingdom", "Europe/London", 52.830, -1.375},
        {"Oulton Park Circuit", "International", kRoad, 4.307, 17, 0.95, "Little Budworth, United Kingdom",
         "Europe/London", 53.180, -2.613},
        {"Snetterton Circuit", "300", kRoad, 4.779, 12, 0.98, "Snetterton, United Kingdom", "Europe/London",
         52.466, 0.946},
        {"Autodromo Internazionale Enzo e Dino Ferrari", "Grand Prix", kRoad, 4.909, 19, 1.0, "Imola, Italy",
         "Europe/Rome", 44.341, 11.713},
        {"Autodromo Internazionale del Mugello", "Grand Prix", kRoad, 5.245, 15, 1.05,
         "Scarperia e San Piero, Italy", "Europe/Rome", 43.997, 11.371},
        {"Misano World Circuit Marco Simoncelli", "Grand Prix", kRoad, 4.226, 16, 0.95,
         "Misano Adriatico, Italy", "Europe/Rome", 43.961, 12.683},
        {"Red Bull Ring", "Grand Prix", kRoad, 4.318, 10, 1.05, "Spielberg, Austria", "Europe/Vienna", 47.220,
         14.765},
        {"Hungaroring", "Grand Prix", kRoad, 4.381, 14, 0.95, "Mogyoród, Hungary", "Europe/Budapest", 47.579,
         19.249},
        {"Circuit Zandvoort", "Grand Prix", kRoad, 4.259, 14, 0.98, "Zandvoort, Netherlands",
         "Europe/Amsterdam", 52.389, 4.541},
        {"Circuit de Barcelona-Catalunya", "Grand Prix", kRoad, 4.657, 14, 1.0, "Montmeló, Spain",
         "Europe/Madrid", 41.570, 2.261},
        {"Algarve International Circuit", "Grand Prix", kRoad, 4.653, 15, 1.0, "Portimão, Portugal",
         "Europe/Lisbon", 37.232, -8.631},
        {"Autódromo José Carlos Pace", "Grand Prix", kRoad, 4.309, 15, 1.02, "São Paulo, Brazil",
         "America/Sao_Paulo", -23.701, -46.697},
        {"Suzuka International Racing Course", "Grand Prix", kRoad, 5.807, 18, 1.02, "Suzuka, Japan",
         "Asia/Tokyo", 34.843, 136.541},
        {"Suzuka International Racing Course", "East", kRoad, 2.243, 7, 0.92, "Suzuka, Japan", "Asia/Tokyo",
         34.843, 136.541},
        {"Fuji International Speedway", "Grand Prix", kRoad, 4.563, 16, 1.05, "Oyama, Japan", "Asia/Tokyo",
         35.372, 138.927},
        {"Mount Panorama Circuit", "Bathurst", kRoad, 6.213, 23, 1.02, "Bathurst, Australia",
         "Australia/Sydney", -33.448, 149.555},
        {"Phillip Island Circuit", "Grand Prix", kRoad, 4.445, 12, 1.05, "Cowes, Australia",
         "Australia/Melbourne", -38.502, 145.232},
        {"Watkins Glen International", "Boot", kRoad, 5.552, 11, 1.05, "Watkins Glen, NY, USA",
         "America/New_York", 42.337, -76.927},
        {"Watkins Glen International", "Cup", kRoad, 3.945, 8, 1.08, "Watkins Glen, NY, USA",
         "America/New_York", 42.337, -76.927},
        {"Road America", "Full Course", kRoad, 6.515, 14, 1.08, "Elkhart Lake, WI, USA", "America/Chicago",
         43.798, -87.990},
        {"WeatherTech Raceway at Laguna Seca", "Full Course", kRoad, 3.602, 11, 0.95, "Salinas, CA, USA",
         "America/Los_Angeles", 36.584, -121.753},
        {"Sebring International Raceway", "International", kRoad, 6.019, 17, 1.0, "Sebring, FL, USA",
         "America/New_York", 27.455, -81.348},
        {"Michelin Raceway Road Atlanta", "Full Course", kRoad, 4.088, 12, 1.05, "Braselton, GA, USA",
         "America/New_York", 34.146, -83.817},
        {"Lime Rock Park", "Full Course", kRoad, 2.459, 7, 1.0, "Lakeville, CT, USA", "America/New_York",
         41.928, -73.381},
        {"Virginia International Raceway", "Full Course", kRoad, 5.263, 17, 1.02, "Alton, VA, USA",
         "America/New_York", 36.561, -79.206},
        {"Virginia International Raceway", "Patriot", kRoad, 1.770, 8, 0.9, "Alton, VA, USA",
         "America/New_York", 36.561, -79.206},
        {"Mid-Ohio Sports Car Course", "Full Course", kRoad, 3.634, 13, 0.97, "Lexington, OH, USA",
         "America/New_York", 40.689, -82.636},
        {"Circuit of the Americas", "Grand Prix", kRoad, 5.513, 20, 1.0, "Austin, TX, USA", "America/Chicago",
         30.133, -97.641},
        {"Sonoma Raceway", "Cup", kRoad, 4.052, 12, 0.95, "Sonoma, CA, USA", "America/Los_Angeles", 38.161,
         -122.455},
        {"Canadian Tire Motorsport Park", "Full Course", kRoad, 3.957, 10, 1.05, "Bowmanville, ON, Canada",
         "America/Toronto", 44.053, -78.677},
        {"Circuit Gilles Villeneuve", "Grand Prix", kRoad, 4.361, 14, 1.05, "Montréal, QC, Canada",
         "America/Toronto", 45.500, -73.522},
        {"Okayama International Circuit", "Full Course", kRoad, 3.703, 13, 0.92, "Mimasaka, Japan",
         "Asia/Tokyo", 34.915, 134.221},
        {"Tsukuba Circuit", "2000 Full", kRoad, 2.045, 9, 0.9, "Shimotsuma, Japan", "Asia/Tokyo", 36.151,
         139.919},
        {"Summit Point Raceway", "Summit Point Raceway", kRoad, 3.219, 10, 0.95, "Summit Point, WV, USA",
         "America/New_York", 39.235, -77.970},
        {"Daytona International Speedway", "Road Course", kRoad, 5.729, 12, 1.1, "Daytona Beach, FL, USA",
         "America/New_York", 29.185, -81.071},
        {"Charlotte Motor Speedway", "Roval", kRoad, 3.701, 17, 1.0, "Concord, NC, USA", "America/New_York",
         35.352, -80.683},
        {"Istanbul Park", "Grand Prix", kRoad, 5.338, 14, 1.05, "Tuzla, Türkiye", "Europe/Istanbul", 40.951,
         29.405},
        {"Long Beach Street Circuit", "Grand Prix", kRoad, 3.167, 11, 0.88, "Long Beach, CA, USA",
         "America/Los_Angeles", 33.765, -118.193},
        {"Circuit de Nevers Magny-Cours", "Grand Prix", kRoad, 4.411, 17, 1.0, "Magny-Cours, France",
         "Europe/Paris", 46.864, 3.163},
        {"Hockenheimring Baden-Württemberg", "Grand Prix", kRoad, 4.574, 17, 1.02, "Hockenheim, Germany",
         "Europe/Berlin", 49.327, 8.566},
        {"Daytona International Speedway", "Oval", kOval, 4.023, 4, 1.45, "Daytona Beach, FL, USA",
         "America/New_York", 29.185, -81.071},
        {"Talladega Superspeedway", "Oval", kOval, 4.281, 4, 1.5, "Lincoln, AL, USA", "America/Chicago",
         33.567, -86.065},
        {"Charlotte Motor Speedway", "Oval", kOval, 2.414, 4, 1.35, "Concord, NC, USA", "America/New_York",
         35.352, -80.683},
        {"Atlanta Motor Speedway", "Oval", kOval, 2.478, 4, 1.35, "Hampton, GA, USA", "America/New_York",
         33.383, -84.317},
        {"Las Vegas Motor Speedway", "Oval", kOval, 2.414, 4, 1.3, "Las Vegas, NV, USA",
         "America/Los_Angeles", 36.272, -115.010},
        {"Texas Motor Speedway", "Oval", kOval, 2.414, 4, 1.3, "Fort Worth, TX, USA", "America/Chicago",
         33.037, -97.282},
        {"Michigan International Speedway", "Oval", kOval, 3.219, 4, 1.4, "Brooklyn, MI, USA",
         "America/Detroit", 42.067, -84.241},
        {"Pocono Raceway", "Oval", kOval, 4.023, 3, 1.2, "Long Pond, PA, USA", "America/New_York", 41.055,
         -75.511},
        {"Indianapolis Motor Speedway", "Oval", kOval, 4.023, 4, 1.4, "Speedway, IN, USA",
         "America/Indiana/Indianapolis", 39.795, -86.235},
        {"Bristol Motor Speedway", "Oval", kOval, 0.858, 4, 0.95, "Bristol, TN, USA", "America/New_York",
         36.516, -82.257},
        {"Martinsville Speedway", "Oval", kOval, 0.847, 4, 0.65, "Ridgeway, VA, USA", "America/New_York",
         36.634, -79.852},
        {"Richmond Raceway", "Oval", kOval, 1.207, 4, 1.0, "Richmond, VA, USA", "America/New_York", 37.592,
         -77.420},
        {"Phoenix Raceway", "Oval", kOval, 1.609, 4, 1.05, "Avondale, AZ, USA", "America/Phoenix", 33.375,
         -112.311},
        {"Darlington Raceway", "Oval", kOval, 2.197, 4, 1.2, "Darlington, SC, USA", "America/New_York",
         34.296, -79.905},
        {"Dover Motor Speedway", "Oval", kOval, 1.609, 4, 1.15, "Dover, DE, USA", "America/New_York", 39.190,
         -75.530},
        {"Iowa Speedway", "Oval", kOval, 1.408, 4, 1.1, "Newton, IA, USA", "America/Chicago", 41.677,
         -93.014},
        {"New Hampshire Motor Speedway", "Oval", kOval, 1.702, 4, 1.0, "Loudon, NH, USA", "America/New_York",
         43.363, -71.461},
        {"Homestead-Miami Speedway", "Oval", kOval, 2.414, 4, 1.25, "Homestead, FL, USA", "America/New_York",
         25.452, -80.409},
        {"Nashville Superspeedway", "Oval", kOval, 2.141, 4, 1.2, "Lebanon, TN, USA", "America/Chicago",
         36.045, -86.412},
        {"South Boston Speedway", "Oval", kOval, 0.644, 4, 0.8, "South Boston, VA, USA", "America/New_York",
         36.700, -78.883},
        {"Five Flags Speedway", "Oval", kOval, 0.805, 4, 0.8, "Pensacola, FL, USA", "America/Chicago", 30.503,
         -87.311},
        {"Langley Speedway", "Oval", kOval, 0.636, 4, 0.75, "Hampton, VA, USA", "America/New_York", 37.084,
         -76.365},
        {"Lanier National Speedway", "Asphalt", kOval, 0.604, 4, 0.8, "Braselton, GA, USA",
         "America/New_York", 34.170, -83.802},
        {"Oxford Plains Speedway", "Oval", kOval, 0.604, 4, 0.8, "Oxford, ME, USA", "America/New_York",
         44.158, -70.470},
        {"USA International Speedway", "Asphalt", kOval, 1.207, 4, 1.0, "Lakeland, FL, USA",
         "America/New_York", 28.114, -81.997},
        {"Eldora Speedway", "Dirt", kDirtOval, 0.805, 4, 0.9, "Rossburg, OH, USA", "America/New_York", 40.330,
         -84.639},
        {"Knoxville Raceway", "Dirt", kDirtOval, 0.805, 4, 0.95, "Knoxville, IA, USA", "America/Chicago",
         41.317, -93.107},
        {"Williams Grove Speedway", "Dirt", kDirtOval, 0.805, 4, 0.95, "Mechanicsburg, PA, USA",
         "America/New_York", 40.151, -77.021},
        {"Volusia Speedway Park", "Dirt", kDirtOval, 0.805, 4, 0.92, "Barberville, FL, USA",
         "America/New_York", 29.190, -81.410},
        {"Lernerville Speedway", "Dirt", kDirtOval, 0.644, 4, 0.88, "Sarver, PA, USA", "America/New_York",
         40.723, -79.749},
        {"Fairbury Speedway", "Dirt", kDirtOval, 0.402, 4, 0.8, "Fairbury, IL, USA", "America/Chicago",
         40.748, -88.512},
        {"Kokomo Speedway", "Dirt", kDirtOval, 0.402, 4, 0.8, "Kokomo, IN, USA",
         "America/Indiana/Indianapolis", 40.484, -86.152},
        {"Limaland Motorsports Park", "Dirt", kDirtOval, 0.402, 4, 0.8, "Lima, OH, USA", "America/New_York",
         40.763, -84.066},
        {"Weedsport Speedway", "Dirt", kDirtOval, 0.604, 4, 0.85, "Weedsport, NY, USA", "America/New_York",
         43.045, -76.551},
        {"Cedar Lake Speedway", "Dirt", kDirtOval, 0.604, 4, 0.85, "New Richmond, WI, USA", "America/Chicago",
         45.118, -92.514},
        {"Port Royal Speedway", "Dirt", kDirtOval, 0.805, 4, 0.92, "Port Royal, PA, USA", "America/New_York",
         40.533, -77.389},
        {"Bristol Motor Speedway", "Dirt", kDirtOval, 0.858, 4, 0.85, "Bristol, TN, USA", "America/New_York",
         36.516, -82.257},
        {"Lucas Oil Speedway", "Off Road Long", kDirtRoad, 1.600, 10, 0.9, "Wheatland, MO, USA",
         "America/Chicago", 37.997, -93.423},
        {"Crandon International Raceway", "Full", kDirtRoad, 2.700, 14, 0.92, "Crandon, WI, USA",
         "America/Chicago", 45.569, -88.902},
        {"Crandon International Raceway", "Short", kDirtRoad, 1.600, 9, 0.9, "Crandon, WI, USA",
         "America/Chicago", 45.569, -88.902},
        {"Wild Horse Pass Motorsports Park", "Rallycross", kDirtRoad, 1.000, 9, 0.85, "Chandler, AZ, USA",
         "America/Phoenix", 33.268, -111.964},
        {"Lånkebo Motorbana", "Rallycross", kDirtRoad, 1.160, 10, 0.85, "Kumla, Sweden", "Europe/Stockholm",
         59.125, 15.139},
        {"Höljesbanan", "Rallycross", kDirtRoad, 1.300, 10, 0.88, "Höljes, Sweden", "Europe/Stockholm",
         60.904, 12.586},
        {"Atlanta Motor Speedway", "Rallycross", kDirtRoad, 1.100, 9, 0.85, "Hampton, GA, USA",
         "America/New_York", 33.383, -84.317},
        {"Daytona International Speedway", "Rallycross", kDirtRoad, 1.200, 10, 0.86, "Daytona Beach, FL, USA",
         "America/New_York", 29.185, -81.071},
        {"Wild West Motorsports Park", "Short Course", kDirtRoad, 1.000, 8, 0.85, "Sparks, NV, USA",
         "America/Los_Angeles", 39.567, -119.676},
    };
    return rows;
}

struct SeriesRow {
    std::string_view name;
    std::string_view short_name;
    int category;
    int license_group;
    std::vector<std::string_view> cars;  // abbreviations
    int every_hours;
    int minute;
    int race_minutes;
};
const std::vector<SeriesRow>& series_rows() {
    static const std::vector<SeriesRow> rows{
        {"Global Mazda MX-5 Fanatec Cup", "MX-5 Cup", kSportsCar, 1, {"MX5"}, 1, 15, 20},
        {"Toyota GR86 Cup", "GR86 Cup", kSportsCar, 1, {"GR86"}, 2, 45, 20},
        {"GT4 Falken Tyre Challenge",
         "GT4 Challenge",
         kSportsCar,
         2,
         {"CAY GT4", "M4 GT4", "AMV GT4", "570S GT4", "AMG GT4"},
         2,
         30,
         30},
        {"Touring Car Challenge",
         "TCR Challenge",
         kSportsCar,
         2,
         {"RS3 TCR", "ELN TC", "CIV TCR", "VEL TC"},
         2,
         15,
         25},
        {"Porsche iRacing Cup", "Porsche Cup", kSportsCar, 3, {"992 CUP"}, 2, 0, 25},
        {"GT Sprint VRS Series",
         "GT Sprint",
         kSportsCar,
         3,
         {"R8 GT3", "M4 GT3", "296 GT3", "MUS GT3", "HUR GT3", "720S GT3", "AMG GT3", "992 GT3R", "AMV GT3",
          "NSX GT3", "Z06 GT3"},
         1,
         0,
         30},
        {"GT Endurance VRS Series",
         "GT Endurance",
         kSportsCar,
         4,
         {"R8 GT3", "M4 GT3", "296 GT3", "MUS GT3", "HUR GT3", "720S GT3", "AMG GT3", "992 GT3R", "AMV GT3",
          "NSX GT3", "Z06 GT3"},
         4,
         0,
         60},
        {"IMSA iRacing Series", "IMSA", kSportsCar, 4, {"CAD GTP", "963 GTP", "BMW GTP", "ARX-06"}, 2, 0, 45},
        {"LMP2 Prototype Challenge", "LMP2 Challenge", kSportsCar, 4, {"P217"}, 2, 30, 40},
        {"Formula Vee SIMAGIC Series", "Formula Vee", kFormulaCar, 1, {"VEE"}, 1, 30, 15},
        {"Ray FF1600 Thrustmaster Cup", "FF1600 Cup", kFormulaCar, 2, {"FF1600"}, 2, 0, 20},
        {"FIA F4 Championship", "F4", kFormulaCar, 2, {"F4"}, 2, 30, 20},
        {"Formula 3 Fanatec Championship", "F3", kFormulaCar, 3, {"F3"}, 2, 45, 25},
        {"Super Formula iRacing Series", "Super Formula", kFormulaCar, 4, {"SF23 T", "SF23 H"}, 2, 15, 35},
        {"NASCAR iRacing Cup Series", "NASCAR Cup", kOval, 5, {"CUP CHV", "CUP FRD", "CUP TOY"}, 4, 0, 45},
        {"ARCA Menards Series", "ARCA", kOval, 2, {"ARCA CHV", "ARCA FRD", "ARCA TOY"}, 2, 15, 25},
        {"Late Model Stock Tour", "LMSC Tour", kOval, 2, {"LMSC"}, 2, 30, 25},
        {"Street Stock Fanatec Series", "Street Stock", kOval, 1, {"SS"}, 1, 45, 15},
        {"DIRTcar 360 Sprint Car Series", "360 Sprint", kDirtOval, 2, {"360 SPR"}, 2, 0, 20},
        {"Dirt Late Model iRacing Series", "Dirt Late Model", kDirtOval, 3, {"PLM"}, 2, 30, 20},
        {"Rallycross Series", "Rallycross", kDirtRoad, 2, {"BEETLE", "WRX", "FIESTA RX"}, 2, 15, 15},
        {"Pro 2 Lite Off-Road Series", "Pro 2 Lite", kDirtRoad, 1, {"PRO2L"}, 1, 0, 15},
    };
    return rows;
}

constexpr std::string_view kTurkishFirst[] = {
    "Ahmet",  "Mehmet", "Mustafa", "Emre",   "Burak", "Can",   "Cem",   "Deniz",  "Ömer",  "İbrahim",
    "Gökhan", "Çağlar", "Ümit",    "Yiğit",  "Ege",   "Kaan",  "Barış", "Serkan", "Tolga", "Onur",
    "Hakan",  "Oğuz",   "Doğan",   "Eren",   "Arda",  "Alper", "Murat", "Volkan", "Sinan", "Koray",
    "Berk",   "Mert",   "Uğur",    "Tuncay", "Halil", "İlker", "Şener", "Ayşe",   "Fatma", "Elif",
    "Zeynep", "Şule",   "Selin",   "Merve",  "Özge",  "Tuğba", "Ebru",  "Gizem",  "Büşra", "Irmak",
    "Cansu",  "Defne",  "İpek",    "Nur",    "Pınar"};
constexpr std::string_view kTurkishLast[] = {
    "Yılmaz", "Kaya",  "Demir", "Şahin",   "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın", "Özdemir",
    "Arslan", "Doğan", "Kılıç", "Aslan",   "Çetin", "Kara",   "Koç",      "Kurt",   "Özkan", "Şimşek",
    "Polat",  "Güneş", "Aksoy", "Korkmaz", "Bulut", "Tekin",  "Uçar",     "Karaca", "Erdem", "Keskin",
    "Ünal",   "Güler", "Işık",  "Acar",    "Turan", "Çakır",  "Sarı",     "Altın",  "Ateş",  "Gündoğdu"};
constexpr std::string_view kIntlFirst[] = {
    "Lukas", "Max",    "Oliver", "James", "Lucas", "Mateo",  "Hugo",  "Luca", "Jan",    "Mikko",
    "Lars",  "Sven",   "Kenji",  "Noah",  "Tomás", "Pieter", "Liam",  "Ana",  "Sofia",  "Chloé",
    "Emma",  "Matteo", "Niklas", "Jonas", "Pablo", "João",   "Ethan", "Yuki", "Anders", "Marta"};
constexpr std::string_view kIntlLast[] = {
    "Müller",    "Schmidt",  "Smith",    "Wilson",    "Silva",   "García", "Martin", "Rossi",
    "Kowalski",  "Virtanen", "Andersen", "Johansson", "Tanaka",  "Dubois", "Novák",  "de Vries",
    "O'Brien",   "Costa",    "Ferrari",  "Bernard",   "Fischer", "Weber",  "Jones",  "Taylor",
    "Fernández", "Santos",   "Bianchi",  "Nowak",     "Nielsen", "Larsen", "Suzuki", "Moreau",
    "Horvat",    "Janssen",  "Walsh",    "Petrov",    "Ivanov",  "Brown",  "López",  "Romano"};
constexpr std::string_view kIntlCountries[] = {"DE", "GB", "BR", "ES", "FR", "IT", "PL", "FI",
                                               "DK", "SE", "JP", "NL", "IE", "PT", "US"};

struct CategoryInfo {
    int id;
    std::string_view key;
    std::string_view name;
};
constexpr std::array<CategoryInfo, 5> kLicenceCategories{{{kOval, "oval", "Oval"},
                                                          {kSportsCar, "sports_car", "Sports Car"},
                                                          {kFormulaCar, "formula_car", "Formula Car"},
                                                          {kDirtOval, "dirt_oval", "Dirt Oval"},
                                                          {kDirtRoad, "dirt_road", "Dirt Road"}}};

int track_category_for(int licence_category) {
    switch (licence_category) {
        case kOval:
            return kOval;
        case kDirtOval:
            return kDirtOval;
        case kDirtRoad:
            return kDirtRoad;
        default:
            return kRoad;
    }
}

// ---- races: internals ---------------------------------------------------------------------------

struct Slot {
    std::int64_t hour = 0;  // hours since 2020-01-01
    int series = 0;
};

std::int64_t slot_start_ms(const Series& s, std::int64_t hour) {
    return hour_start_ms(hour) + static_cast<std::int64_t>(s.minute) * 60'000;
}
bool series_races_at(const Series& s, std::int64_t hour) {
    return floor_mod(hour - s.phase, s.every_hours) == 0;
}
std::int64_t next_slot_hour(const Series& s, std::int64_t from_hour) {
    return from_hour + floor_mod(s.phase - from_hour, s.every_hours);
}

int track_at(const Series& s, std::int64_t ms) {
    Season season = season_at(ms);
    return s.schedule[static_cast<std::size_t>(race_week_at(season, ms))];
}

int member_car(const FakeTeam& team, const TeamMember& m, const Series& s) {
    return s.cars[H(team.seed, kTagMemberCar, m.cust_id, s.index) % s.cars.size()];
}

// The official races a member starts on UTC day `day` (days since 1970).
std::vector<Slot> day_races(const FakeTeam& team, const TeamMember& m, std::int64_t day) {
    std::vector<Slot> out;
    if (m.favourite_series.empty()) return out;
    const double r = unit(H(team.seed, kTagRace, m.cust_id, day));
    if (r >= m.race_chance) return out;
    const bool twice = unit(H(team.seed, kTagRaceCount, m.cust_id, day)) < m.double_chance;
    const int jitter = static_cast<int>(H(team.seed, kTagRaceHour, m.cust_id, day) % 5) - 2;
    const int first_hour = std::clamp(m.usual_hour_utc + jitter, 0, 19);
    const std::int64_t day_hour0 = hour_index(day * kDayMs);
    std::int64_t target = day_hour0 + first_hour;
    for (int i = 0; i < (twice ? 2 : 1); ++i) {
        const auto pick = H(team.seed, kTagRaceSeries, m.cust_id, day, i) % m.favourite_series.size();
        const Series& s = team.series[static_cast<std::size_t>(m.favourite_series[pick])];
        const std::int64_t h = next_slot_hour(s, target);
        if (h - day_hour0 > 22) break;  // a race belongs to the day it starts on
        out.push_back({h, s.index});
        target = h + 2;
    }
    return out;
}

struct PracticeSession {
    std::uint64_t key = 0;
    int car = 0;
    int track = 0;
    std::int64_t start_ms = 0;
    int laps = 0;
};
std::optional<PracticeSession> day_practice(const FakeTeam& team, const TeamMember& m, std::int64_t day) {
    if (m.favourite_series.empty()) return std::nullopt;
    const std::uint64_t u = H(team.seed, kTagPractice, m.cust_id, day);
    if (unit(u) >= m.practice_chance) return std::nullopt;
    Rng rng(u);
    const Series& s = team.series[static_cast<std::size_t>(m.favourite_series[static_cast<std::size_t>(
        rng.between(0, static_cast<int>(m.favourite_series.size()) - 1))])];
    PracticeSession p;
    p.key = u | 1ULL;  // never equal to a subsession id
    p.start_ms = day * kDayMs + rng.between(9, 21) * kHourMs + rng.between(0, 59) * 60'000;
    p.car = member_car(team, m, s);
    p.track = track_at(s, p.start_ms);
    p.laps = rng.between(6, 24);
    return p;
}

// One lap of a driver in a session: seconds, and whether it was clean.
struct LapSample {
    double seconds;
    bool clean;
    int incident_points;
};
double base_lap_seconds(const FakeTeam& team, int car, int track) {
    const Car& c = team.cars[static_cast<std::size_t>(car)];
    const Track& t = team.tracks[static_cast<std::size_t>(track)];
    return t.length_km / (c.speed_kmh * t.speed_factor) * 3600.0;
}
LapSample lap_sample(const FakeTeam& team, std::int64_t driver, int irating, std::uint64_t session, int car,
                     int track, int lap) {
    const double base = base_lap_seconds(team, car, track);
    const double skill = 1.0 + (2600.0 - irating) / 4700.0 * 0.07;
    const double noise = (unit(H(team.seed, kTagLap, driver, session, lap)) - 0.5) * 0.012;
    double t = base * skill * (1.0 + noise);
    const std::uint64_t dirty = H(team.seed, kTagLapDirty, driver, session, lap);
    LapSample out{t, true, 0};
    if (unit(dirty) < 0.10) {
        out.clean = false;
        out.seconds *= 1.02 + unit(dirty >> 7) * 0.05;
        const int kinds[] = {1, 2, 4};
        out.incident_points = kinds[(dirty >> 20) % 3];
    }
    if (lap == 1) out.seconds += base * 0.04;  // the start
    out.seconds = std::round(out.seconds * 10000.0) / 10000.0;
    return out;
}

struct Participant {
    std::int64_t cust_id;
    std::string name;
    const TeamMember* member;
    int car;
    int irating;
    int license_level;
    double safety_rating;
};

std::string synthetic_name(const FakeTeam& team, std::uint64_t u) {
    const bool turkish = (u & 3) == 0;
    if (turkish)
        return std::string(kTurkishFirst[(u >> 8) % std::size(kTurkishFirst)]) + " " +
               std::string(kTurkishLast[(u >> 20) % std::size(kTurkishLast)]);
    (void)team;
    return std::string(kIntlFirst[(u >> 8) % std::size(kIntlFirst)]) + " " +
           std::string(kIntlLast[(u >> 20) % std::size(kIntlLast)]);
}

Race run_race(const FakeTeam& team, Race race, std::vector<Participant> field) {
    const std::uint64_t session = static_cast<std::uint64_t>(race.subsession_id);
    const int n = static_cast<int>(field.size());
    // Qualifying order.
    std::vector<std::pair<double, int>> qual;
    for (int i = 0; i < n; ++i) {
        const auto& p = field[static_cast<std::size_t>(i)];
        double q =
            lap_sample(team, p.cust_id, p.irating, session ^ kTagQualify, p.car, race.track, 2).seconds;
        qual.emplace_back(q, i);
    }
    std::sort(qual.begin(), qual.end());

    struct Run {
        std::vector<double> cumulative;  // seconds after each lap
        double best = 0;
        int best_lap = 0;
        int incidents = 0;
        int dnf_lap = 0;  // 0: none
        int laps_done = 0;
        int start = 0;
    };
    std::vector<Run> runs(static_cast<std::size_t>(n));
    for (int qi = 0; qi < n; ++qi)
        runs[static_cast<std::size_t>(qual[static_cast<std::size_t>(qi)].second)].start = qi;
    for (int i = 0; i < n; ++i) {
        const auto& p = field[static_cast<std::size_t>(i)];
        Run& r = runs[static_cast<std::size_t>(i)];
        const std::uint64_t dnf = H(team.seed, kTagDnf, p.cust_id, session);
        if (unit(dnf) < 0.06 && race.race_laps > 2)
            r.dnf_lap = 1 + static_cast<int>((dnf >> 12) % static_cast<std::uint64_t>(race.race_laps - 1));
        double total = r.start * 0.35;  // grid spacing
        for (int lap = 1; lap <= race.race_laps; ++lap) {
            auto s = lap_sample(team, p.cust_id, p.irating, session, p.car, race.track, lap);
            total += s.seconds;
            r.cumulative.push_back(total);
            r.incidents += s.incident_points;
            if (lap > 1 && (r.best == 0 || s.seconds < r.best)) {
                r.best = s.seconds;
                r.best_lap = lap;
            }
            if (r.dnf_lap == lap) break;
        }
    }
    // The leader's finish ends the race: everyone else completes the lap they are on.
    double leader_finish = 0;
    for (const auto& r : runs)
        if (!r.dnf_lap && (leader_finish == 0 || r.cumulative.back() < leader_finish))
            leader_finish = r.cumulative.back();
    for (auto& r : runs) {
        if (r.dnf_lap) {
            r.laps_done = static_cast<int>(r.cumulative.size());
            continue;
        }
        int done = 0;
        while (done < static_cast<int>(r.cumulative.size()) &&
               r.cumulative[static_cast<std::size_t>(done)] <= leader_finish)
            ++done;
        if (done < static_cast<int>(r.cumulative.size())) ++done;
        r.laps_done = std::max(1, done);
    }
    std::vector<int> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) {
        const Run& ra = runs[static_cast<std::size_t>(a)];
        const Run& rb = runs[static_cast<std::size_t>(b)];
        if ((ra.dnf_lap == 0) != (rb.dnf_lap == 0)) return ra.dnf_lap == 0;
        if (ra.laps_done != rb.laps_done) return ra.laps_done > rb.laps_done;
        return ra.cumulative[static_cast<std::size_t>(ra.laps_done - 1)] <
               rb.cumulative[static_cast<std::size_t>(rb.laps_done - 1)];
    });
    // Laps led: who was ahead after each lap.
    std::vector<int> led(static_cast<std::size_t>(n), 0);
    for (int lap = 0; lap < race.race_laps; ++lap) {
        int best = -1;
        for (int i = 0; i < n; ++i) {
            const Run& r = runs[static_cast<std::size_t>(i)];
            if (r.laps_done <= lap) continue;
            if (best < 0 ||
                r.cumulative[static_cast<std::size_t>(lap)] <
                    runs[static_cast<std::size_t>(best)].cumulative[static_cast<std::size_t>(lap)])
                best = i;
        }
        if (best >= 0) ++led[static_cast<std::size_t>(best)];
    }
    // Ratings.
    double sum = 0;
    for (const auto& p : field) sum += p.irating;
    race.strength_of_field = n ? static_cast<int>(std::lround(sum / n)) : 0;
    std::vector<int> by_rating(static_cast<std::size_t>(n));
    std::iota(by_rating.begin(), by_rating.end(), 0);
    std::sort(by_rating.begin(), by_rating.end(), [&](int a, int b) {
        return field[static_cast<std::size_t>(a)].irating > field[static_cast<std::size_t>(b)].irating;
    });
    std::vector<int> expected(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i)
        expected[static_cast<std::size_t>(by_rating[static_cast<std::size_t>(i)])] = i;

    double slowest = 0;
    for (const auto& r : runs)
        slowest = std::max(slowest, r.cumulative[static_cast<std::size_t>(r.laps_done - 1)]);
    race.end_ms = std::max(race.end_ms, race.start_ms + static_cast<std::int64_t>(slowest * 1000) + 60'000);
    const Run& winner = runs[static_cast<std::size_t>(order.front())];
    const double winner_total = winner.cumulative[static_cast<std::size_t>(winner.laps_done - 1)];
    race.field.clear();
    for (int pos = 0; pos < n; ++pos) {
        const int i = order[static_cast<std::size_t>(pos)];
        const auto& p = field[static_cast<std::size_t>(i)];
        const Run& r = runs[static_cast<std::size_t>(i)];
        RaceEntry e;
        e.cust_id = p.cust_id;
        e.display_name = p.name;
        e.member = p.member;
        e.car = p.car;
        e.start_position = r.start;
        e.finish_position = pos;
        e.laps_complete = r.laps_done;
        e.laps_led = led[static_cast<std::size_t>(i)];
        e.incidents = r.incidents;
        e.best_lap = static_cast<std::int64_t>(std::llround(r.best * 10000.0));
        e.best_lap_num = r.best_lap;
        const double total = r.cumulative[static_cast<std::size_t>(r.laps_done - 1)];
        e.total_time = static_cast<std::int64_t>(std::llround(total * 10000.0));
        e.average_lap = static_cast<std::int64_t>(std::llround(total / r.laps_done * 10000.0));
        if (r.dnf_lap) {
            e.interval = -1;
            e.reason_out = "Disconnected";
            e.reason_out_id = 32;
        } else if (r.laps_done < winner.laps_done) {
            e.interval = -1;
        } else {
            e.interval = static_cast<std::int64_t>(std::llround((total - winner_total) * 10000.0));
        }
        e.old_irating = p.irating;
        const int delta = static_cast<int>(
            std::lround((expected[static_cast<std::size_t>(i)] - pos) * 7.0 + (n / 2.0 - pos) * 2.0));
        e.new_irating = std::max(100, p.irating + delta);
        e.license_level = p.license_level;
        e.old_sub_level = static_cast<int>(std::lround(p.safety_rating * 100));
        e.new_sub_level = std::clamp(e.old_sub_level + (4 - e.incidents) * 3, 100, 499);
        e.champ_points = static_cast<int>(std::lround((n - pos) * race.strength_of_field / 10.0 / n));
        race.field.push_back(std::move(e));
    }
    return race;
}

int race_laps_for(const FakeTeam& team, int car, int track, int minutes) {
    const double lap = base_lap_seconds(team, car, track);
    return std::clamp(static_cast<int>(std::lround(minutes * 60.0 / lap)), 3, 400);
}

std::optional<Race> official_race(const FakeTeam& team, std::int64_t hour, int series_index,
                                  std::int64_t now_ms) {
    if (series_index < 0 || series_index >= static_cast<int>(team.series.size())) return std::nullopt;
    const Series& s = team.series[static_cast<std::size_t>(series_index)];
    if (!series_races_at(s, hour)) return std::nullopt;
    Race race;
    race.subsession_id = kOfficialSubsessionBase + hour * kSeriesSlots + series_index;
    race.session_id = kOfficialSessionBase + hour * kSeriesSlots + series_index;
    race.series = series_index;
    race.start_ms = slot_start_ms(s, hour);
    race.end_ms = race.start_ms + (s.race_minutes + 3) * 60'000LL;
    if (race.end_ms > now_ms) return std::nullopt;
    race.season = season_at(race.start_ms);
    race.season_id = season_id(s, race.season.index);
    race.race_week = race_week_at(race.season, race.start_ms);
    race.track = s.schedule[static_cast<std::size_t>(race.race_week)];
    race.category_id = s.category_id;
    race.race_laps = race_laps_for(team, s.cars.front(), race.track, s.race_minutes);

    std::vector<Participant> field;
    const std::int64_t day = day_of(race.start_ms);
    for (const auto& m : team.members) {
        for (const auto& slot : day_races(team, m, day)) {
            if (slot.hour != hour || slot.series != series_index) continue;
            const License& lic = m.license(s.category_id);
            field.push_back({m.cust_id, m.display_name, &m, member_car(team, m, s),
                             irating_at(team, m, s.category_id, race.start_ms), lic.license_level,
                             lic.safety_rating});
        }
    }
    if (field.empty()) return std::nullopt;
    const std::uint64_t fs = H(team.seed, kTagFieldSize, hour, series_index);
    const int size = 12 + static_cast<int>(fs % 13);
    const int others = std::max(3, size - static_cast<int>(field.size()));
    const int centre = 1100 + s.license_group * 350;
    for (int j = 0; j < others; ++j) {
        const std::uint64_t u = H(team.seed, kTagSynthetic, hour, series_index, j);
        std::int64_t cust = 200'000 + static_cast<std::int64_t>(u % 900'000);
        while (team.member_by_cust_id(cust)) ++cust;
        const int ir = std::clamp(centre + static_cast<int>((unit(u >> 3) - 0.5) * 1800), 700, 6500);
        const int level = std::clamp(s.license_group * 4 + static_cast<int>((u >> 40) % 6), 1, 28);
        field.push_back({cust, synthetic_name(team, u), nullptr, s.cars[(u >> 30) % s.cars.size()], ir, level,
                         1.5 + unit(u >> 17) * 3.4});
    }
    Race done = run_race(team, std::move(race), std::move(field));
    if (done.end_ms > now_ms) return std::nullopt;  // results exist once the last car is in
    return done;
}

bool attends_league(const FakeTeam& team, const TeamMember& m, int season_index, int number) {
    return m.league_driver && unit(H(team.seed, kTagLeagueAttend, season_index, number, m.cust_id)) < 0.75;
}

std::string crockford(std::uint64_t value, int chars) {
    static const char* kAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    std::string out(static_cast<std::size_t>(chars), '0');
    for (int i = chars - 1; i >= 0; --i) {
        out[static_cast<std::size_t>(i)] = kAlphabet[value & 31];
        value >>= 5;
    }
    return out;
}

std::string ulid(std::int64_t ms, std::uint64_t a, std::uint64_t b) {
    // 48-bit time in 10 characters, 80 random bits in 16.
    return crockford(static_cast<std::uint64_t>(ms) & ((1ULL << 48) - 1), 10) + crockford(a >> 14, 10) +
           crockford(b >> 34, 6);
}

void append_laps(const FakeTeam& team, const TeamMember& m, std::uint64_t session, int car, int track,
                 std::int64_t start_ms, int first_lap, int laps, const std::vector<double>* race_times,
                 int irating, int session_type, const LapQuery& q, std::vector<Lap>& out) {
    std::int64_t t = start_ms;
    for (int k = 0; k < laps; ++k) {
        const int lap_no = first_lap + k;
        LapSample s = lap_sample(team, m.cust_id, irating, session, car, track, lap_no);
        const std::int64_t lap_ms = static_cast<std::int64_t>(std::llround(s.seconds * 1000));
        if (race_times)
            t = start_ms + static_cast<std::int64_t>(
                               std::llround(((*race_times)[static_cast<std::size_t>(k)] - s.seconds) * 1000));
        const std::int64_t lap_start = t;
        t += lap_ms;
        if (t > q.now_ms) break;  // not driven yet
        if (lap_start <= q.after_ms) continue;
        if (!s.clean && !q.include_unclean) continue;
        Lap lap;
        const std::uint64_t u = H(team.seed, kTagUlid, m.cust_id, session, lap_no);
        lap.id = ulid(lap_start, u, splitmix(u));
        lap.driver = &m;
        lap.car = car;
        lap.track = track;
        lap.lap_time = s.seconds;
        lap.lap_number = lap_no;
        lap.start_ms = lap_start;
        lap.clean = s.clean;
        lap.session_type = session_type;
        const std::uint64_t sec = H(team.seed, kTagSectors, m.cust_id, session, lap_no);
        const double f1 = 0.31 + unit(sec) * 0.04, f2 = 0.33 + unit(sec >> 9) * 0.04;
        const double s1 = std::round(s.seconds * f1 * 1000) / 1000,
                     s2 = std::round(s.seconds * f2 * 1000) / 1000;
        lap.sectors = {s1, s2, std::round((s.seconds - s1 - s2) * 1000) / 1000};
        out.push_back(std::move(lap));
    }
}

bool contains(const std::vector<int>& v, int x) {
    return std::find(v.begin(), v.end(), x) != v.end();
}

}  // namespace

// ---- public -------------------------------------------------------------------------------------

std::string fold_name(std::string_view text) {
    return fold(text);
}

LicenseGroup license_group(int level) {
    level = std::clamp(level, 1, 28);
    static constexpr std::array<LicenseGroup, 7> kGroups{{{1, "Rookie", "fc0706"},
                                                          {2, "Class D", "ff8c00"},
                                                          {3, "Class C", "ffcc00"},
                                                          {4, "Class B", "33cc00"},
                                                          {5, "Class A", "0153db"},
                                                          {6, "Pro", "000000"},
                                                          {7, "Pro/WC", "000000"}}};
    return kGroups[static_cast<std::size_t>((level - 1) / 4)];
}

const License& TeamMember::license(int category_id) const {
    if (category_id == kRoad) category_id = kSportsCar;
    for (const auto& l : licenses)
        if (l.category_id == category_id) return l;
    return licenses.front();
}

const TeamMember* FakeTeam::member_by_cust_id(std::int64_t cust_id) const {
    for (const auto& m : members)
        if (m.cust_id == cust_id) return &m;
    return nullptr;
}
const TeamMember* FakeTeam::member_by_g61_id(std::string_view id) const {
    for (const auto& m : members)
        if (m.g61_id == id) return &m;
    return nullptr;
}
const TeamMember* FakeTeam::member_by_slug(std::string_view slug) const {
    for (const auto& m : members)
        if (m.g61_slug == slug) return &m;
    return nullptr;
}
const Car* FakeTeam::car_by_id(std::int64_t id) const {
    for (const auto& c : cars)
        if (c.car_id == id) return &c;
    return nullptr;
}
const Car* FakeTeam::car_by_g61_id(std::int64_t id) const {
    for (const auto& c : cars)
        if (c.g61_id == id) return &c;
    return nullptr;
}
const Track* FakeTeam::track_by_id(std::int64_t id) const {
    for (const auto& t : tracks)
        if (t.track_id == id) return &t;
    return nullptr;
}
const Track* FakeTeam::track_by_g61_id(std::int64_t id) const {
    for (const auto& t : tracks)
        if (t.g61_id == id) return &t;
    return nullptr;
}

const RaceEntry* Race::entry(std::int64_t cust_id) const {
    for (const auto& e : field)
        if (e.cust_id == cust_id) return &e;
    return nullptr;
}

FakeTeam generate_team(std::uint64_t seed, int member_count) {
    FakeTeam team;
    team.seed = seed;
    Rng rng(H(seed, 0xfeedULL));

    // Catalogue: iRacing ids are fixed; Garage61 numbers the same content its own way (a fixed shuffle).
    const auto& crow = car_rows();
    std::vector<int> g61_car_order(crow.size());
    std::iota(g61_car_order.begin(), g61_car_order.end(), 0);
    Rng fixed(0x6a61ULL);
    for (std::size_t i = g61_car_order.size(); i > 1; --i)
        std::swap(g61_car_order[i - 1], g61_car_order[fixed.next() % i]);
    for (std::size_t i = 0; i < crow.size(); ++i) {
        Car c;
        c.index = static_cast<int>(i);
        c.car_id = 1 + static_cast<std::int64_t>(i) * 3 + static_cast<std::int64_t>(i / 7);
        c.g61_id = 3001 + g61_car_order[i] * 2;
        c.car_name = std::string(crow[i].name);
        c.abbrev = std::string(crow[i].abbrev);
        c.category_id = crow[i].category;
        auto [class_id, speed] = class_of(crow[i].car_class);
        c.car_class_id = class_id;
        c.speed_kmh = speed * (0.985 + 0.03 * unit(H(0x5eedULL, i)));
        c.hp = crow[i].hp;
        c.weight_kg = crow[i].kg;
        c.free_with_subscription =
            c.abbrev == "MX5" || c.abbrev == "VEE" || c.abbrev == "SS" || c.abbrev == "GR86";
        team.cars.push_back(std::move(c));
    }
    const auto& trow = track_rows();
    std::vector<int> g61_track_order(trow.size());
    std::iota(g61_track_order.begin(), g61_track_order.end(), 0);
    for (std::size_t i = g61_track_order.size(); i > 1; --i)
        std::swap(g61_track_order[i - 1], g61_track_order[fixed.next() % i]);
    for (std::size_t i = 0; i < trow.size(); ++i) {
        Track t;
        t.index = static_cast<int>(i);
        t.track_id = 100 + static_cast<std::int64_t>(i) * 4 + static_cast<std::int64_t>(i % 3);
        t.g61_id = 7001 + g61_track_order[i] * 3;
        t.track_name = std::string(trow[i].name);
        t.config_name = std::string(trow[i].config);
        t.category_id = trow[i].category;
        t.length_km = trow[i].km;
        t.corners = trow[i].corners;
        t.speed_factor = trow[i].factor;
        t.location = std::string(trow[i].location);
        t.time_zone = std::string(trow[i].tz);
        t.latitude = trow[i].lat;
        t.longitude = trow[i].lon;
        t.package_id = 1000 + static_cast<int>(i);
        t.free_with_subscription = i % 6 == 0;
        team.tracks.push_back(std::move(t));
    }
    auto car_index = [&](std::string_view abbrev) {
        for (const auto& c : team.cars)
            if (c.abbrev == abbrev) return c.index;
        throw std::logic_error("unknown car abbreviation");
    };

    const auto& srow = series_rows();
    for (std::size_t i = 0; i < srow.size(); ++i) {
        Series s;
        s.index = static_cast<int>(i);
        s.series_id = 200 + static_cast<std::int64_t>(i) * 11;
        s.series_name = std::string(srow[i].name);
        s.short_name = std::string(srow[i].short_name);
        s.category_id = srow[i].category;
        s.license_group = srow[i].license_group;
        for (auto abbrev : srow[i].cars) s.cars.push_back(car_index(abbrev));
        s.car_class_id = team.cars[static_cast<std::size_t>(s.cars.front())].car_class_id;
        s.every_hours = srow[i].every_hours;
        s.phase = static_cast<int>(i % static_cast<std::size_t>(s.every_hours));
        s.minute = srow[i].minute;
        s.race_minutes = srow[i].race_minutes;
        std::vector<int> pool;
        for (const auto& t : team.tracks)
            if (t.category_id == track_category_for(s.category_id)) pool.push_back(t.index);
        for (std::size_t k = pool.size(); k > 1; --k) std::swap(pool[k - 1], pool[rng.next() % k]);
        for (int w = 0; w < 12; ++w) s.schedule.push_back(pool[static_cast<std::size_t>(w) % pool.size()]);
        team.series.push_back(std::move(s));
    }

    static constexpr std::array<std::string_view, 5> kTeamNames{"Boğaz Motorsport", "Anadolu Sim Racing",
                                                                "Kapadokya Racing Team", "Pitwall Racing",
                                                                "Ege Sim Motorsport"};
    team.team_name = std::string(kTeamNames[seed % kTeamNames.size()]);
    team.g61_team_slug = slugify(team.team_name);
    team.g61_team_id = uuid_like(H(seed, 0x7eaULL), H(seed, 0x7ebULL));

    // Members.
    std::set<std::int64_t> cust_ids;
    std::map<std::string, int> names, slugs;
    for (int i = 0; i < member_count; ++i) {
        TeamMember m;
        m.index = i;
        std::int64_t cust;
        do cust = 100'000 + static_cast<std::int64_t>(rng.next() % 1'100'000);
        while (!cust_ids.insert(cust).second);
        m.cust_id = cust;
        const bool turkish = rng.chance(0.7);
        if (turkish) {
            m.first_name = std::string(kTurkishFirst[rng.next() % std::size(kTurkishFirst)]);
            m.last_name = std::string(kTurkishLast[rng.next() % std::size(kTurkishLast)]);
            m.country_code = "TR";
        } else {
            m.first_name = std::string(kIntlFirst[rng.next() % std::size(kIntlFirst)]);
            m.last_name = std::string(kIntlLast[rng.next() % std::size(kIntlLast)]);
            m.country_code = std::string(kIntlCountries[rng.next() % std::size(kIntlCountries)]);
        }
        std::string display = m.first_name + " " + m.last_name;
        if (int n = names[display]++; n > 0) display += std::to_string(n + 1);
        m.display_name = display;
        std::string slug = slugify(m.first_name + " " + m.last_name);
        if (int n = slugs[slug]++; n > 0) slug += "-" + std::to_string(n + 1);
        m.g61_slug = slug;
        m.g61_id = uuid_like(rng.next(), rng.next());
        m.member_since =
            iso_date(days_from_civil(rng.between(2008, 2023), static_cast<unsigned>(rng.between(1, 12)),
                                     static_cast<unsigned>(rng.between(1, 28))) *
                     kDayMs);
        m.helmet_color1 = hex_of(rng.next(), 6);
        m.helmet_color2 = hex_of(rng.next(), 6);
        m.helmet_color3 = hex_of(rng.next(), 6);
        m.iracing_token = "fir_at_" + hex_of(H(seed, 0xa1ULL, cust), 16) + hex_of(H(seed, 0xa2ULL, cust), 16);
        m.garage61_token =
            "g61_pat_" + hex_of(H(seed, 0xb1ULL, cust), 16) + hex_of(H(seed, 0xb2ULL, cust), 16);

        const double skill = rng.real(0.0, 1.0);
        int seq = 1;
        for (const auto& cat : kLicenceCategories) {
            License l;
            l.category_id = cat.id;
            l.category = std::string(cat.key);
            l.category_name = std::string(cat.name);
            l.seq = seq++;
            const bool road = cat.id == kSportsCar || cat.id == kFormulaCar;
            const bool active = road || rng.chance(cat.id == kOval ? 0.5 : 0.3);
            if (active) {
                const double s = std::clamp(skill + rng.real(-0.15, 0.15) - (road ? 0.0 : 0.2), 0.0, 1.0);
                l.irating = static_cast<int>(std::lround(900 + std::pow(s, 1.3) * 4300));
                l.license_level =
                    std::clamp(5 + static_cast<int>(std::lround(s * 18)) + rng.between(-2, 2), 1, 28);
                l.safety_rating = std::round(rng.real(1.2, 4.99) * 100) / 100;
                l.mpr_num_races = rng.between(0, 4);
            } else {
                l.irating = 1350;
                l.license_level = rng.between(1, 4);
                l.safety_rating = 2.5;
            }
            l.tt_rating = l.irating - rng.between(0, 150);
            l.cpi = std::round(rng.real(15.0, 120.0) * 100) / 100;
            l.mpr_num_tts = 0;
            m.licenses.push_back(std::move(l));
        }

        m.race_chance = rng.real(0.33, 0.9);
        m.double_chance = rng.real(0.05, 0.35);
        m.practice_chance = rng.real(0.15, 0.6);
        m.usual_hour_utc = turkish ? rng.between(15, 19) : rng.between(13, 21);
        const int favourites = rng.between(2, 4);
        while (static_cast<int>(m.favourite_series.size()) < favourites) {
            int pick = static_cast<int>(rng.next() % team.series.size());
            const int cat = team.series[static_cast<std::size_t>(pick)].category_id;
            if (cat != kSportsCar && cat != kFormulaCar && !rng.chance(0.3)) continue;  // a road team, mostly
            if (!contains(m.favourite_series, pick)) m.favourite_series.push_back(pick);
        }
        m.league_driver = rng.chance(0.7) || i == 0;
        team.members.push_back(std::move(m));
    }

    team.league.league_id = 4000 + static_cast<std::int64_t>(seed % 5000);
    team.league.league_name = team.team_name + " League";
    team.league.owner_cust_id = team.members.empty() ? 0 : team.members.front().cust_id;
    team.league.car = car_index("AMG GT3");
    {
        std::vector<int> pool;
        for (const auto& t : team.tracks)
            if (t.category_id == kRoad && t.length_km < 8) pool.push_back(t.index);
        for (std::size_t k = pool.size(); k > 1; --k) std::swap(pool[k - 1], pool[rng.next() % k]);
        pool.resize(10);
        team.league.tracks = pool;
    }
    return team;
}

// ---- time ---------------------------------------------------------------------------------------

Season season_by_index(int index) {
    Season s;
    s.index = index;
    s.start_ms = kSeasonAnchorMs + static_cast<std::int64_t>(index) * kSeasonLengthMs;
    s.year = 2024 + static_cast<int>(floor_div(index, 4));
    s.quarter = static_cast<int>(floor_mod(index, 4)) + 1;
    return s;
}

Season season_at(std::int64_t ms) {
    return season_by_index(static_cast<int>(floor_div(ms - kSeasonAnchorMs, kSeasonLengthMs)));
}

int race_week_at(const Season& season, std::int64_t ms) {
    return std::clamp(static_cast<int>(floor_div(ms - season.start_ms, kWeekMs)), 0, 11);
}

std::int64_t season_id(const Series& series, int season_index) {
    return 3000 + static_cast<std::int64_t>(season_index + kSeasonOffset) * kSeriesSlots + series.index;
}

std::int64_t league_season_id(const League& league, int season_index) {
    return 60'000 + (league.league_id % 1000) * 1000 + season_index + kSeasonOffset;
}

std::string iso8601(std::int64_t ms, bool with_millis) {
    const std::int64_t day = floor_div(ms, kDayMs);
    const std::int64_t rest = ms - day * kDayMs;
    const Civil c = civil_from_days(day);
    char buf[96];
    const int hh = static_cast<int>(rest / kHourMs), mm = static_cast<int>(rest / 60'000 % 60),
              ss = static_cast<int>(rest / 1000 % 60), mss = static_cast<int>(rest % 1000);
    if (with_millis)
        std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02d.%03dZ", static_cast<long long>(c.y),
                      c.m, c.d, hh, mm, ss, mss);
    else
        std::snprintf(buf, sizeof buf, "%04lld-%02u-%02uT%02d:%02d:%02dZ", static_cast<long long>(c.y), c.m,
                      c.d, hh, mm, ss);
    return buf;
}

std::string iso_date(std::int64_t ms) {
    return iso8601(ms).substr(0, 10);
}

std::optional<std::int64_t> parse_iso8601(std::string_view t) {
    auto digits = [&](std::size_t pos, std::size_t n) -> std::optional<int> {
        if (pos + n > t.size()) return std::nullopt;
        int v = 0;
        for (std::size_t i = pos; i < pos + n; ++i) {
            if (t[i] < '0' || t[i] > '9') return std::nullopt;
            v = v * 10 + (t[i] - '0');
        }
        return v;
    };
    auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2);
    if (!y || !mo || !d || t.size() < 10 || t[4] != '-' || t[7] != '-') return std::nullopt;
    if (*mo < 1 || *mo > 12 || *d < 1 || *d > 31) return std::nullopt;
    std::int64_t ms = days_from_civil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d)) * kDayMs;
    if (t.size() == 10) return ms;
    if (t[10] != 'T' && t[10] != 't' && t[10] != ' ') return std::nullopt;
    auto hh = digits(11, 2), mi = digits(14, 2);
    if (!hh || !mi || t.size() < 16 || t[13] != ':' || *hh > 23 || *mi > 59) return std::nullopt;
    ms += *hh * kHourMs + *mi * 60'000LL;
    std::size_t pos = 16;
    if (pos < t.size() && t[pos] == ':') {
        auto ss = digits(pos + 1, 2);
        if (!ss || *ss > 60) return std::nullopt;
        ms += *ss * 1000LL;
        pos += 3;
        if (pos < t.size() && t[pos] == '.') {
            ++pos;
            int frac = 0, n = 0;
            while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
                if (n < 3) frac = frac * 10 + (t[pos] - '0');
                ++n;
                ++pos;
            }
            if (n == 0) return std::nullopt;
            while (n < 3) {
                frac *= 10;
                ++n;
            }
            ms += frac;
        }
    }
    if (pos == t.size()) return ms;  // no zone: UTC
    if ((t[pos] == 'Z' || t[pos] == 'z') && pos + 1 == t.size()) return ms;
    if (t[pos] == '+' || t[pos] == '-') {
        auto oh = digits(pos + 1, 2);
        std::optional<int> om;
        if (pos + 6 == t.size() && t[pos + 3] == ':')
            om = digits(pos + 4, 2);
        else if (pos + 5 == t.size())
            om = digits(pos + 3, 2);
        else if (pos + 3 == t.size())
            om = 0;
        if (!oh || !om) return std::nullopt;
        const std::int64_t offset = *oh * kHourMs + *om * 60'000LL;
        return t[pos] == '+' ? ms - offset : ms + offset;
    }
    return std::nullopt;
}

// ---- ratings ------------------------------------------------------------------------------------

namespace {
// iRating moves only when the member races in the category, as on iRacing: the value of a day is the
// value of the member's last finished race day in that category (a fixed 120-day anchor when there
// was none), so members who did not race keep their ratings and a sync can tell who raced.
std::int64_t rating_day(const FakeTeam& team, const TeamMember& m, int category_id, std::int64_t ms) {
    const std::int64_t today = day_of(ms);
    for (std::int64_t d = today; d > today - 120; --d)
        for (const auto& slot : day_races(team, m, d)) {
            const Series& s = team.series[static_cast<std::size_t>(slot.series)];
            if (s.category_id != category_id) continue;
            if (slot_start_ms(s, slot.hour) + static_cast<std::int64_t>(s.race_minutes) * 60'000 <= ms)
                return d;
        }
    return today - floor_mod(today, 120);
}
}  // namespace

int irating_at(const FakeTeam& team, const TeamMember& m, int category_id, std::int64_t ms) {
    const License& l = m.license(category_id);
    const std::int64_t day = rating_day(team, m, category_id, ms);
    const std::uint64_t u = H(team.seed, kTagIrating, m.cust_id, l.category_id);
    const double amplitude = l.license_level <= 4 && l.irating == 1350 ? 0.0 : 120 + unit(u) * 220;
    const double period = 90 + unit(u >> 8) * 140;
    const double phase = unit(u >> 16) * 6.283185307179586;
    const double wobble = (unit(H(team.seed, kTagIrating, m.cust_id, l.category_id, day)) - 0.5) * 30;
    const double v = l.irating +
                     amplitude * std::sin(6.283185307179586 * static_cast<double>(day) / period + phase) +
                     (amplitude > 0 ? wobble : 0);
    return std::clamp(static_cast<int>(std::lround(v)), 800, 5500);
}

// ---- races --------------------------------------------------------------------------------------

std::optional<Race> race_by_subsession(const FakeTeam& team, std::int64_t id, std::int64_t now_ms) {
    if (id >= kOfficialSubsessionBase && id < kLeagueSubsessionBase) {
        const std::int64_t rel = id - kOfficialSubsessionBase;
        return official_race(team, rel / kSeriesSlots, static_cast<int>(rel % kSeriesSlots), now_ms);
    }
    if (id >= kLeagueSubsessionBase && id < kOfficialSessionBase) {
        const std::int64_t rel = id - kLeagueSubsessionBase;
        const int season_index = static_cast<int>(rel / 16) - kSeasonOffset;
        const int number = static_cast<int>(rel % 16);
        auto sessions = league_sessions(team, season_index);
        if (number >= static_cast<int>(sessions.size())) return std::nullopt;
        return league_race(team, sessions[static_cast<std::size_t>(number)], now_ms);
    }
    return std::nullopt;
}

std::vector<Race> member_races_between(const FakeTeam& team, const TeamMember& m, std::int64_t from_ms,
                                       std::int64_t to_ms) {
    std::vector<Race> out;
    if (to_ms <= from_ms) return out;
    for (std::int64_t day = day_of(from_ms); day <= day_of(to_ms); ++day) {
        for (const auto& slot : day_races(team, m, day)) {
            const Series& s = team.series[static_cast<std::size_t>(slot.series)];
            const std::int64_t start = slot_start_ms(s, slot.hour);
            if (start < from_ms || start >= to_ms) continue;
            if (auto race = official_race(team, slot.hour, slot.series, to_ms))
                out.push_back(std::move(*race));
        }
    }
    if (m.league_driver) {
        for (int si = season_at(from_ms).index; si <= season_at(to_ms).index; ++si) {
            for (const auto& session : league_sessions(team, si)) {
                if (session.launch_ms < from_ms || session.launch_ms >= to_ms) continue;
                if (!attends_league(team, m, si, session.number)) continue;
                if (auto race = league_race(team, session, to_ms)) out.push_back(std::move(*race));
            }
        }
    }
    std::sort(out.begin(), out.end(), [](const Race& a, const Race& b) { return a.start_ms < b.start_ms; });
    return out;
}

std::vector<Race> member_recent_races(const FakeTeam& team, const TeamMember& m, std::int64_t now_ms,
                                      int count) {
    struct Candidate {
        std::int64_t start;
        bool league;
        std::int64_t hour;
        int series;
        LeagueSession session;
    };
    std::vector<Candidate> candidates;
    std::int64_t oldest = now_ms;
    const std::int64_t today = day_of(now_ms);
    int official = 0;
    // A couple of spare candidates: a race whose slowest car is still running has no results yet.
    for (std::int64_t day = today; day > today - 400 && official < count + 2; --day) {
        auto slots = day_races(team, m, day);
        for (auto it = slots.rbegin(); it != slots.rend(); ++it) {
            const Series& s = team.series[static_cast<std::size_t>(it->series)];
            const std::int64_t start = slot_start_ms(s, it->hour);
            if (start + (s.race_minutes + 3) * 60'000LL > now_ms) continue;
            candidates.push_back({start, false, it->hour, it->series, {}});
            oldest = std::min(oldest, start);
            ++official;
        }
    }
    if (m.league_driver) {
        const int current = season_at(now_ms).index;
        for (int si = current; si >= current - 4; --si) {
            for (const auto& session : league_sessions(team, si)) {
                if (session.end_ms > now_ms || !attends_league(team, m, si, session.number)) continue;
                if (official >= count + 2 && session.launch_ms < oldest) continue;
                candidates.push_back({session.launch_ms, true, 0, 0, session});
            }
        }
    }
    std::sort(candidates.begin(), candidates.end(),
              [](const auto& a, const auto& b) { return a.start > b.start; });
    std::vector<Race> out;
    for (const auto& c : candidates) {
        if (static_cast<int>(out.size()) >= count) break;
        auto race =
            c.league ? league_race(team, c.session, now_ms) : official_race(team, c.hour, c.series, now_ms);
        if (race) out.push_back(std::move(*race));
    }
    return out;
}

std::vector<ScheduledSession> sessions_starting_between(const FakeTeam& team, std::int64_t from_ms,
                                                        std::int64_t to_ms) {
    std::vector<ScheduledSession> out;
    for (std::int64_t h = hour_index(from_ms) - 1; h <= hour_index(to_ms); ++h) {
        for (const auto& s : team.series) {
            if (!series_races_at(s, h)) continue;
            const std::int64_t start = slot_start_ms(s, h);
            if (start < from_ms || start >= to_ms) continue;
            ScheduledSession ss;
            ss.series = s.index;
            ss.session_id = kOfficialSessionBase + h * kSeriesSlots + s.index;
            ss.subsession_id = kOfficialSubsessionBase + h * kSeriesSlots + s.index;
            ss.start_ms = start;
            ss.end_ms = start + (s.race_minutes + 3) * 60'000LL;
            const Season season = season_at(start);
            ss.race_week = race_week_at(season, start);
            ss.season_id = season_id(s, season.index);
            ss.entry_count = 8 + static_cast<int>(H(team.seed, kTagEntryCount, h, s.index) % 40);
            out.push_back(ss);
        }
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
        return a.start_ms != b.start_ms ? a.start_ms < b.start_ms : a.series < b.series;
    });
    return out;
}

// ---- league -------------------------------------------------------------------------------------

std::vector<LeagueSession> league_sessions(const FakeTeam& team, int season_index) {
    std::vector<LeagueSession> out;
    const Season season = season_by_index(season_index);
    const auto& tracks = team.league.tracks;
    for (int k = 0; k < team.league.sessions_per_season; ++k) {
        LeagueSession s;
        s.number = k;
        s.season_index = season_index;
        const std::int64_t code = static_cast<std::int64_t>(season_index + kSeasonOffset) * 16 + k;
        s.session_id = kLeagueSessionBase + code;
        s.subsession_id = kLeagueSubsessionBase + code;
        // Thursdays 19:00 UTC (the season starts on a Tuesday): practice, qualifying, then the race.
        s.launch_ms = season.start_ms + k * kWeekMs + 2 * kDayMs + 19 * kHourMs;
        s.end_ms = s.launch_ms + (30 + team.league.race_minutes + 3) * 60'000LL;
        s.track = tracks.empty() ? 0
                                 : tracks[static_cast<std::size_t>(floor_mod(
                                       k + season_index * 3, static_cast<std::int64_t>(tracks.size())))];
        s.car = team.league.car;
        out.push_back(s);
    }
    return out;
}

std::optional<Race> league_race(const FakeTeam& team, const LeagueSession& session, std::int64_t now_ms) {
    if (session.end_ms > now_ms) return std::nullopt;
    Race race;
    race.subsession_id = session.subsession_id;
    race.session_id = session.session_id;
    race.league = true;
    race.season = season_by_index(session.season_index);
    race.season_id = league_season_id(team.league, session.season_index);
    race.race_week = session.number;
    race.start_ms = session.launch_ms + 30 * 60'000LL;
    race.end_ms = session.end_ms;
    race.track = session.track;
    race.category_id = kSportsCar;
    race.race_laps = race_laps_for(team, session.car, session.track, team.league.race_minutes);
    std::vector<Participant> field;
    for (const auto& m : team.members) {
        if (!attends_league(team, m, session.season_index, session.number)) continue;
        const License& l = m.license(kSportsCar);
        field.push_back({m.cust_id, m.display_name, &m, session.car,
                         irating_at(team, m, kSportsCar, race.start_ms), l.license_level, l.safety_rating});
    }
    if (field.empty()) return std::nullopt;
    Race done = run_race(team, std::move(race), std::move(field));
    if (done.end_ms > now_ms) return std::nullopt;
    return done;
}

// ---- Garage61 laps ------------------------------------------------------------------------------

std::vector<Lap> find_laps(const FakeTeam& team, const LapQuery& q) {
    std::vector<Lap> out;
    if (q.cars.empty() || q.tracks.empty()) return out;
    const std::int64_t today = day_of(q.now_ms);
    std::int64_t first_day = today - q.history_days;
    if (q.after_ms > 0) first_day = std::max(first_day, day_of(q.after_ms));
    auto wanted_type = [&](int type) { return q.session_types.empty() || contains(q.session_types, type); };

    for (const TeamMember* m : q.drivers) {
        for (std::int64_t day = first_day; day <= today; ++day) {
            if (wanted_type(3)) {
                for (const auto& slot : day_races(team, *m, day)) {
                    const Series& s = team.series[static_cast<std::size_t>(slot.series)];
                    const std::int64_t start = slot_start_ms(s, slot.hour);
                    const int car = member_car(team, *m, s);
                    const int track = track_at(s, start);
                    if (!contains(q.cars, car) || !contains(q.tracks, track) || start >= q.now_ms) continue;
                    // Laps of a race in progress appear as they are driven: run the race as if it had ended.
                    auto race =
                        official_race(team, slot.hour, slot.series, std::numeric_limits<std::int64_t>::max());
                    if (!race) continue;
                    const RaceEntry* e = race->entry(m->cust_id);
                    if (!e) continue;
                    const int ir = irating_at(team, *m, s.category_id, start);
                    std::vector<double> cumulative;
                    double total = e->start_position * 0.35;
                    for (int lap = 1; lap <= e->laps_complete; ++lap) {
                        total += lap_sample(team, m->cust_id, ir,
                                            static_cast<std::uint64_t>(race->subsession_id), car, track, lap)
                                     .seconds;
                        cumulative.push_back(total);
                    }
                    append_laps(team, *m, static_cast<std::uint64_t>(race->subsession_id), car, track, start,
                                1, e->laps_complete, &cumulative, ir, 3, q, out);
                }
            }
            if (wanted_type(1)) {
                if (auto p = day_practice(team, *m, day)) {
                    if (contains(q.cars, p->car) && contains(q.tracks, p->track) && p->start_ms < q.now_ms) {
                        const int category = team.cars[static_cast<std::size_t>(p->car)].category_id;
                        append_laps(team, *m, p->key, p->car, p->track, p->start_ms, 2, p->laps, nullptr,
                                    irating_at(team, *m, category, p->start_ms), 1, q, out);
                    }
                }
            }
        }
        if (wanted_type(3) && m->league_driver && contains(q.cars, team.league.car)) {
            for (int si = season_at(first_day * kDayMs).index; si <= season_at(q.now_ms).index; ++si) {
                for (const auto& session : league_sessions(team, si)) {
                    if (!contains(q.tracks, session.track) || !attends_league(team, *m, si, session.number))
                        continue;
                    const std::int64_t start = session.launch_ms + 30 * 60'000LL;
                    if (start >= q.now_ms || day_of(start) < first_day) continue;
                    auto race = league_race(team, session, std::numeric_limits<std::int64_t>::max());
                    if (!race) continue;
                    const RaceEntry* e = race->entry(m->cust_id);
                    if (!e) continue;
                    const int ir = irating_at(team, *m, kSportsCar, start);
                    std::vector<double> cumulative;
                    double total = e->start_position * 0.35;
                    for (int lap = 1; lap <= e->laps_complete; ++lap) {
                        total +=
                            lap_sample(team, m->cust_id, ir, static_cast<std::uint64_t>(race->subsession_id),
                                       session.car, session.track, lap)
                                .seconds;
                        cumulative.push_back(total);
                    }
                    append_laps(team, *m, static_cast<std::uint64_t>(race->subsession_id), session.car,
                                session.track, start, 1, e->laps_complete, &cumulative, ir, 3, q, out);
                }
            }
        }
    }
    return out;
}

}  // namespace pitwall::fakes

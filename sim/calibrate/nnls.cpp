#include "sim/calibrate/nnls.hpp"

#include <algorithm>
#include <limits>
#include <optional>
#include <vector>

namespace moesim::sim {
namespace {

// Least squares over the passive columns only; the others stay 0.
Eigen::VectorXd solve_passive(const Eigen::MatrixXd& a, const Eigen::VectorXd& b,
                              const std::vector<bool>& passive) {
  std::vector<Eigen::Index> columns;
  for (Eigen::Index j = 0; j < a.cols(); ++j)
    if (passive[static_cast<std::size_t>(j)]) columns.push_back(j);
  Eigen::MatrixXd sub(a.rows(), static_cast<Eigen::Index>(columns.size()));
  for (std::size_t k = 0; k < columns.size(); ++k)
    sub.col(static_cast<Eigen::Index>(k)) = a.col(columns[k]);
  const Eigen::VectorXd z_sub = sub.colPivHouseholderQr().solve(b);
  Eigen::VectorXd z = Eigen::VectorXd::Zero(a.cols());
  for (std::size_t k = 0; k < columns.size(); ++k)
    z(columns[k]) = z_sub(static_cast<Eigen::Index>(k));
  return z;
}

// The least squares over the `start` columns when it meets the Kuhn-Tucker conditions: positive
// there, and no other column's gradient above the tolerance.
std::optional<Eigen::VectorXd> optimum_on(const Eigen::MatrixXd& a, const Eigen::VectorXd& b,
                                          const std::vector<bool>& start, double tolerance) {
  if (std::find(start.begin(), start.end(), true) == start.end()) return std::nullopt;
  const Eigen::VectorXd z = solve_passive(a, b, start);
  const Eigen::VectorXd gradient = a.transpose() * (b - a * z);
  for (Eigen::Index j = 0; j < a.cols(); ++j)
    if (start[static_cast<std::size_t>(j)] ? !(z(j) > tolerance) : gradient(j) > tolerance)
      return std::nullopt;
  return z;
}

}  // namespace

Eigen::VectorXd non_negative_least_squares(const Eigen::MatrixXd& a, const Eigen::VectorXd& b,
                                           double b_norm, const std::vector<bool>& start) {
  const Eigen::Index n = a.cols();
  const double tolerance = 1e-12 * (1 + a.norm() * (b_norm >= 0 ? b_norm : b.norm()));
  if (static_cast<Eigen::Index>(start.size()) == n)
    if (auto optimum = optimum_on(a, b, start, tolerance)) return *optimum;
  Eigen::VectorXd x = Eigen::VectorXd::Zero(n);
  std::vector<bool> passive(static_cast<std::size_t>(n), false);
  for (int outer = 0; outer < 3 * n + 10; ++outer) {
    const Eigen::VectorXd gradient = a.transpose() * (b - a * x);
    Eigen::Index best = -1;
    for (Eigen::Index j = 0; j < n; ++j)
      if (!passive[static_cast<std::size_t>(j)] && gradient(j) > tolerance &&
          (best < 0 || gradient(j) > gradient(best)))
        best = j;
    if (best < 0) break;  // Kuhn-Tucker conditions hold: x is optimal
    passive[static_cast<std::size_t>(best)] = true;
    for (int inner = 0; inner < 3 * n + 10; ++inner) {
      const Eigen::VectorXd z = solve_passive(a, b, passive);
      double step = 1;
      for (Eigen::Index j = 0; j < n; ++j)
        if (passive[static_cast<std::size_t>(j)] && z(j) <= 0)
          step = std::min(step, x(j) / (x(j) - z(j)));
      x += step * (z - x);
      if (step >= 1) break;
      // Columns that reached zero leave the passive set.
      for (Eigen::Index j = 0; j < n; ++j)
        if (passive[static_cast<std::size_t>(j)] && x(j) <= tolerance) {
          passive[static_cast<std::size_t>(j)] = false;
          x(j) = 0;
        }
    }
  }
  return x;
}

}  // namespace moesim::sim

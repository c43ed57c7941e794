#pragma once
// Non-negative least squares: min ||A x - b|| subject to x >= 0 (Lawson and Hanson, "Solving Least
// Squares Problems", 1974, ch. 23). Cost curves are sums of physical costs, so no term may be
// negative: a negative slope fitted to noise would predict negative times beyond the data.
#include <Eigen/Dense>

namespace moesim::sim {

Eigen::VectorXd non_negative_least_squares(const Eigen::MatrixXd& a, const Eigen::VectorXd& b);

}  // namespace moesim::sim

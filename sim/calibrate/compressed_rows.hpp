#pragma once
// Least-squares rows compressed by QR: with A = Q [R; 0] and d = the top of Q^T b,
// ||A x - b||^2 = ||R x - d||^2 + (||b||^2 - ||d||^2), so the non-negative fit to R and d is the
// fit to the rows, and two blocks of rows merge by rotating one's R into the other's R. A fit that
// leaves one group out merges the blocks before and after it instead of refitting every other row:
// calibrate's leave-one-out refits were quadratic in the records (docs/limits.md).
#include <Eigen/Dense>
#include <optional>
#include <vector>

namespace moesim::sim {

struct CompressedRows {
  Eigen::MatrixXd r;           // columns x columns, upper triangular (zero rows while few rows)
  Eigen::VectorXd d;           // the top of Q^T b
  double b_squared = 0;        // ||b||^2: the fit's tolerance scales with ||b||
  Eigen::VectorXd column_max;  // max |a_ij| of each column: the fit's unit scaling
  Eigen::Index rows = 0;       // rows compressed into it
  bool empty() const { return rows == 0; }
};

// No rows of `columns` columns.
CompressedRows no_rows(Eigen::Index columns);
// The rows a, b rotated into R and d one by one (Givens rotations against R's diagonal, Golub and
// Van Loan, "Matrix Computations", 4th ed., 5.2.5 and 6.5.3: backward stable).
CompressedRows compress_rows(const Eigen::MatrixXd& a, const Eigen::VectorXd& b);
CompressedRows merge_rows(const CompressedRows& x, const CompressedRows& y);

// For each block, every other block merged (prefix and suffix merges: about three a block).
std::vector<CompressedRows> all_but_each(const std::vector<CompressedRows>& blocks);

// The non-negative least-squares coefficients over the rows, each column scaled by its largest
// |value| first (as fit_phase scales its rows, so one tolerance serves counts, bytes and FLOPs).
// `start`: the columns a fit to nearly the same rows kept (non_negative_least_squares).
std::vector<double> fit_compressed(const CompressedRows& rows, const std::vector<bool>& start = {});

// The fit to some rows without one of them, in closed form where it keeps the same columns
// non-zero: x - (A_P^T A_P)^-1 a_P r / (1 - h), r the row's residual and h its leverage (the
// leave-one-out update of least squares), checked against the smaller problem's Kuhn-Tucker
// conditions, which make it that problem's optimum. A row-by-row refit costs a merge and a fit
// each; this costs two triangular solves.
class LeaveOneRowOut {
 public:
  // At most this many columns (every phase has at most 5 features); beyond it every call answers
  // nullopt. Fixed-capacity vectors keep the closed form off the heap.
  static constexpr int kMaxColumns = 8;
  using Vector = Eigen::Matrix<double, Eigen::Dynamic, 1, 0, kMaxColumns, 1>;
  using Matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, 0, kMaxColumns, kMaxColumns>;
  using Row = Eigen::Ref<const Eigen::RowVectorXd, 0, Eigen::InnerStride<>>;

  // `rows` and the coefficients fit_compressed fitted to them.
  LeaveOneRowOut(const CompressedRows& rows, const std::vector<double>& coefficients);
  // The coefficients without the row (a, b); nullopt when the closed form does not hold (a row
  // that alone decides a coefficient, or one whose absence frees or zeroes one).
  std::optional<std::vector<double>> without(Row a, double b) const;

 private:
  Vector scale_;                          // fit_compressed's column scaling
  Matrix r_;                              // R over the scale
  Vector d_;                              // d
  Vector x_;                              // the fit, scaled
  std::vector<Eigen::Index> kept_;        // its non-zero columns
  Matrix r_kept_;                         // the R of those columns alone
  double a_squared_ = 0, b_squared_ = 0;  // ||A||^2 (scaled) and ||b||^2 of all the rows
};

}  // namespace moesim::sim

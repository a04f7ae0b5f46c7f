fn main() -> std::process::ExitCode {
    authaudit::cli::main()
}

/// Which copies of a per-thread value an update writes (maps with one copy ignore it).
enum ValueWrite {
    /// The calling thread's copy, as a program's `map_update_elem` does; a new hash entry
    /// starts with the other copies zeroed.
    case currentThread
    /// Every thread's copy, as the host's update does.
    case everySlot
}
